"""Workers killed with SIGKILL, and a manual run while another builds (invariants 3 and 6).

These start real `flask worker` processes on the test database, Redis and export folder,
and kill them (and their forked work horses) at the worst moment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jobs.tick import tick
from loyalty.db import utcnow
from tests.fixtures.live_server import WorkerProcess, start_worker
from tests.integration.runs.conftest import latest, received
from webapp.extensions import db
from webapp.models.runs import CreationStatus, SyncInstance, Transfer, TransferStatus
from webapp.services import progress, runs

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kill_hard(worker: WorkerProcess) -> None:
    """SIGKILL the worker and every process it forked (its work horse)."""
    pid = worker.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children")
    horses = [int(p) for p in children.read_text().split()] if children.exists() else []
    for victim in [pid, *horses]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    worker.process.wait()


@pytest.fixture
def fast_stale(app: Flask) -> Flask:
    app.config["HEARTBEAT_STALE_SECONDS"] = 2
    return app


def test_worker_killed_mid_build(
    app: Flask,
    fast_stale: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    tmp_path: Path,
) -> None:
    sync = make_sync(rows=200_000, delay_ms=20)  # a build of about 40 s
    _, folder = sftp_destination(sync)
    instance = runs.start_manual_run(sync, user=None, actor="test")
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: (
                db.session.get(SyncInstance, instance.id).creation_status == CreationStatus.RUNNING
            ),
            what="the build to start",
        )
        wait_for(
            lambda: int(progress.read("instance", instance.id).get("rows", "0")) > 0,
            what="rows to be written",
        )
        kill_hard(worker)
    finally:
        worker.stop()
    run_folder = Path(app.config["EXPORT_DIR"]) / f"sync-{sync.id}" / f"run-{instance.id}"
    killed = db.session.get(SyncInstance, instance.id)
    assert killed.creation_status == CreationStatus.RUNNING, worker.output()
    time.sleep(2.5)
    tick(utcnow())  # the sweeper finds the run whose heartbeat stopped
    db.session.expire_all()
    dead = db.session.get(SyncInstance, instance.id)
    assert dead.creation_status == CreationStatus.FAILED, (
        dead.heartbeat_at,
        utcnow(),
        worker.output()[-2000:],
    )
    assert "stopped" in (dead.error or "")
    assert not run_folder.exists()
    db.session.refresh(sync)
    assert sync.build_lease_instance_id is None
    # The next run is complete.
    sync.options = {**sync.options, "rows": 100, "delay_ms": 0}
    db.session.commit()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    final = latest(sync)
    assert final.creation_status == CreationStatus.SUCCEEDED
    assert [t.status for t in final.transfers] == [TransferStatus.SUCCEEDED]
    assert len(received(folder)) == 1


def test_worker_killed_mid_transfer_is_retried(
    app: Flask,
    fast_stale: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    tmp_path: Path,
) -> None:
    sync = make_sync(rows=200_000, row_width=1000)  # a 200 MB file
    _, folder = sftp_destination(sync, retries="2")
    runs.start_manual_run(sync, user=None, actor="test")
    # Build in this process (builds queue only), then let a worker process send it.
    from rq import SimpleWorker

    from webapp.services.dispatch import queue_names
    from webapp.services.redis_client import redis_client

    SimpleWorker([queue_names()[0]], connection=redis_client()).work(
        burst=True, with_scheduler=False
    )
    instance = latest(sync)
    (transfer,) = instance.transfers
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: int(progress.read("transfer", transfer.id).get("sent", "0")) > 10_000_000,
            what="bytes on the wire",
        )
        kill_hard(worker)
    finally:
        worker.stop()
    assert received(folder) == {}  # nothing under a final name
    time.sleep(2.5)
    tick(utcnow())
    db.session.expire_all()
    swept = db.session.get(Transfer, transfer.id)
    assert swept.status == TransferStatus.RETRYING
    assert swept.attempts[0].error_kind == "worker_lost"
    tick(utcnow() + timedelta(seconds=1))
    run_jobs()
    done = db.session.get(Transfer, transfer.id)
    assert done.status == TransferStatus.SUCCEEDED
    (deliverable,) = latest(sync).deliverables
    assert received(folder) == {deliverable.name: deliverable.sha256}
    # The killed attempt's temporary file was replaced by the retry's, then renamed.
    assert sorted(p.name for p in folder.iterdir()) == [deliverable.name]


def test_manual_run_waits_for_the_build_under_way(
    app: Flask, make_sync: Any, tmp_path: Path
) -> None:
    sync = make_sync(rows=20_000, delay_ms=10)  # about 2 s
    first = runs.start_manual_run(sync, user=None, actor="test")
    workers = [start_worker(app, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        wait_for(
            lambda: (
                db.session.get(SyncInstance, first.id).creation_status == CreationStatus.RUNNING
            ),
            what="first build",
        )
        second = runs.start_manual_run(sync, user=None, actor="test")
        wait_for(
            lambda: (
                db.session.get(SyncInstance, second.id).creation_status == CreationStatus.SUCCEEDED
            ),
            timeout=120,
            what="second build: "
            + str(
                [
                    (i.id, i.creation_status, i.note, i.error)
                    for i in db.session.scalars(db.select(SyncInstance))
                ]
            )
            + " / ".join(w.output()[-4000:] for w in workers),
        )
    finally:
        for worker in workers:
            worker.stop()
    a, b = db.session.get(SyncInstance, first.id), db.session.get(SyncInstance, second.id)
    assert a.creation_status == CreationStatus.SUCCEEDED
    assert a.creation_finished_at is not None and b.creation_started_at is not None
    assert b.creation_started_at >= a.creation_finished_at  # never overlapped
