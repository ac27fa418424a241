"""Process New Sync in a real browser against the real sshd: the dashboard row turns
complete without a reload, the original downloads intact, and a re-transfer arrives."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in, screenshot
from tests.fixtures.live_server import start_worker
from tests.fixtures.sync_types import TEST_TYPE_KEY
from webapp.extensions import db
from webapp.models.runs import SyncInstance
from webapp.models.syncs import Sync
from webapp.services import destinations

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def sync_with_destination(app: Any, platform_test_type: Any, sshd_server: Any) -> tuple[Sync, Path]:
    sync = Sync(
        type_key=TEST_TYPE_KEY, name="Nightly members", options={"rows": 3000, "delay_ms": 200}
    )
    db.session.add(sync)
    db.session.commit()
    remote, local = sshd_server.fresh_dir()
    destinations.add_destination(
        sync,
        {
            "name": "Partner SFTP",
            "host": sshd_server.host,
            "protocol": "sftp",
            "port": str(sshd_server.port),
            "directory": remote,
            "username": sshd_server.username,
            "password": sshd_server.password,
            "password_confirm": sshd_server.password,
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
        },
        user=None,
    )
    db.session.commit()
    return sync, local


def test_process_new_sync_live_download_and_retransfer(
    page: Any, app: Any, make_user: Any, sync_with_destination: tuple[Sync, Path], tmp_path: Path
) -> None:
    sync, received = sync_with_destination
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        log_in(page, make_user("sync_manager"))
        page.goto(f"/syncs/{sync.id}/dashboard")
        page.click("#process-new-sync")
        page.wait_for_url(f"**/syncs/{sync.id}/dashboard")
        run_id = db.session.scalar(
            db.select(SyncInstance.id).where(SyncInstance.sync_id == sync.id)
        )
        row = page.locator(f"#run-{run_id}")
        # From here on the page is never reloaded: a marker on window would vanish.
        page.evaluate("window.__notReloaded = true")
        row.locator("td.creation .status.running").wait_for(timeout=30_000)
        screenshot(page, "dashboard-live")
        row.locator("td.creation .status.succeeded", has_text="Created").wait_for(timeout=60_000)
        row.locator("td.transfer .status.succeeded", has_text="Delivered").wait_for(timeout=60_000)
        assert page.evaluate("window.__notReloaded") is True
        assert row.get_attribute("hx-trigger") is None  # polling stopped by itself
        screenshot(page, "dashboard")

        # Download the original from the creation detail and compare its sha256.
        row.get_by_role("link", name="Created", exact=True).click()
        with page.expect_download() as info:
            page.get_by_role("link", name="Download").first.click()
        data = Path(info.value.path()).read_bytes()
        db.session.expire_all()
        instance = db.session.get(SyncInstance, run_id)
        (original,) = instance.originals
        assert hashlib.sha256(data).hexdigest() == original.sha256
        screenshot(page, "creation-detail")

        # Re-transfer: the receiver gets the stored file again.
        for file in received.iterdir():
            file.unlink()
        page.goto(f"/syncs/{sync.id}/runs/{run_id}/transfers")
        page.click("#transfer-files")
        newest = page.locator(".transfer").first  # newest round first
        newest.locator("h2", has_text="re-transfer 1").wait_for()
        newest.locator("p > .status.succeeded").wait_for(timeout=60_000)
        screenshot(page, "transfer-detail")
        (deliverable,) = instance.deliverables
        got = [p for p in received.iterdir() if not p.name.startswith(".")]
        assert [p.name for p in got] == [deliverable.name]
        assert hashlib.sha256(got[0].read_bytes()).hexdigest() == deliverable.sha256
    finally:
        worker.stop()
