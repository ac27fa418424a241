"""Issue 14 in a real browser, with a real worker, Redis and sshd: a dead destination
makes the list say "Partly failed", the Runs page's filter finds the failed transfer,
Retry now delivers it once the destination is fixed, and Cancel stops a waiting run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rq import SimpleWorker

from tests.browser.conftest import log_in, screenshot
from tests.fixtures.live_server import start_worker
from tests.fixtures.sync_types import TEST_TYPE_KEY
from webapp.extensions import db
from webapp.models.runs import CreationStatus, RunOutcome, SyncInstance, Transfer, TransferStatus
from webapp.models.syncs import Sync
from webapp.services import destinations, runs
from webapp.services.dispatch import queue_names
from webapp.services.redis_client import redis_client

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _sftp(sync: Sync, sshd_server: Any, name: str, port: int) -> tuple[Any, Path]:
    remote, local = sshd_server.fresh_dir()
    destination = destinations.add_destination(
        sync,
        {
            "name": name,
            "host": sshd_server.host,
            "protocol": "sftp",
            "port": str(port),
            "directory": remote,
            "username": sshd_server.username,
            "password": sshd_server.password,
            "password_confirm": sshd_server.password,
            "retries": "0",
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
        },
        user=None,
    )
    db.session.commit()
    return destination, local


def _wait_for_outcome(instance_id: int, outcome: RunOutcome, timeout: float = 60) -> SyncInstance:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        run = db.session.get(SyncInstance, instance_id)
        if run is not None and run.outcome == outcome:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {instance_id} never became {outcome}")


def test_a_dead_destination_is_found_retried_and_delivered(
    page: Any,
    app: Any,
    make_user: Any,
    platform_test_type: Any,
    sshd_server: Any,
    closed_port: int,
    tmp_path: Path,
) -> None:
    sync = Sync(type_key=TEST_TYPE_KEY, name="Nightly members", options={"rows": 50})
    db.session.add(sync)
    db.session.commit()
    _sftp(sync, sshd_server, "Partner SFTP", sshd_server.port)
    down, down_folder = _sftp(sync, sshd_server, "Archive SFTP", closed_port)
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        instance = runs.start_manual_run(sync, user=None, actor="test")
        _wait_for_outcome(instance.id, RunOutcome.PARTLY_FAILED)
        log_in(page, make_user("sync_manager"))
        page.goto("/syncs")
        last_run = page.locator(f"#sync-row-{sync.id} td.last-run .status.partly-failed")
        assert last_run.inner_text() == "Partly failed · 1/2"
        assert page.locator("#failure-count").inner_text() == "1 failed"
        screenshot(page, "sync-list-partly-failed")

        page.click("text=Runs")
        page.select_option("#filter-status", "failures")
        page.click("#apply-filters")
        page.wait_for_url("**/runs?status=failures**")
        row = page.locator(f"#runs-row-{instance.id}")
        row.locator(".status.partly-failed", has_text="Partly failed · 1/2").wait_for()
        failed_line = row.locator("ul.destinations li", has_text="Archive SFTP")
        assert failed_line.locator(".status.failed").inner_text() == "Failed"
        screenshot(page, "runs-failures")

        # The receiver is fixed (the real port); Retry now sends the stored file.
        destinations.update_destination(
            down,
            {
                "name": down.name,
                "host": down.host,
                "protocol": "sftp",
                "port": str(sshd_server.port),
                "directory": down.directory,
                "username": down.username,
                "retries": "0",
                "host_key_fingerprint": sshd_server.host_key_fingerprint,
                "password": sshd_server.password,
                "password_confirm": sshd_server.password,
            },
            user=None,
        )
        db.session.commit()
        page.evaluate("window.__notReloaded = true")
        row.get_by_role("button", name="Retry now · Archive SFTP").click()
        page.locator(f"#runs-row-{instance.id} .action-message.done").wait_for()
        assert page.evaluate("window.__notReloaded") is True  # htmx swapped the row
        run = _wait_for_outcome(instance.id, RunOutcome.DELIVERED)
        transfer = next(t for t in run.transfers if t.destination_id == down.id)
        assert [a.succeeded for a in db.session.get(Transfer, transfer.id).attempts] == [
            False,
            True,
        ]
        (deliverable,) = run.deliverables
        assert [p.name for p in down_folder.iterdir() if not p.name.startswith(".")] == [
            deliverable.name
        ]
        page.goto(f"/syncs/{sync.id}/dashboard")
        page.locator(
            f"#run-{instance.id} .run-status .status.delivered", has_text="Delivered 2/2"
        ).wait_for()
        screenshot(page, "dashboard-delivered-after-retry")
    finally:
        worker.stop()


def test_cancel_of_a_waiting_run(
    page: Any, app: Any, make_user: Any, platform_test_type: Any
) -> None:
    sync = Sync(type_key=TEST_TYPE_KEY, name="Weekly points", options={"rows": 5})
    db.session.add(sync)
    db.session.commit()
    instance = runs.start_manual_run(sync, user=None, actor="test")  # queued; no worker yet
    log_in(page, make_user("sync_manager"))
    page.goto(f"/syncs/{sync.id}/dashboard")
    row = page.locator(f"#run-{instance.id}")
    assert row.locator(".run-status .status").inner_text() == "Waiting"
    screenshot(page, "dashboard-waiting-run")
    row.get_by_role("button", name="Cancel").click()
    page.locator(f"#run-{instance.id} .action-message.done").wait_for()
    assert page.locator(f"#run-{instance.id} .run-status .status").inner_text() == "Cancelled"
    # Its build job was already queued: run it; it builds nothing.
    SimpleWorker(list(queue_names()), connection=redis_client()).work(
        burst=True, with_scheduler=False
    )
    db.session.expire_all()
    run = db.session.get(SyncInstance, instance.id)
    assert run.creation_status == CreationStatus.CANCELLED and run.files == []
    assert not [t for t in run.transfers if t.status == TransferStatus.SUCCEEDED]
    page.reload()
    assert page.locator(f"#run-{instance.id} .run-status .status").inner_text() == "Cancelled"
    assert page.locator(f"#run-{instance.id} button", has_text="Cancel").count() == 0
