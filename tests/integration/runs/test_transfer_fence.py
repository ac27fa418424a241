"""Issue 17, item 21: a transfer the sweeper took back never renames from its first attempt.

Driven for real: the first attempt starts its upload to the test sshd, and its SSH
session is frozen (SIGSTOP), as a worker cut off from the database would sit; the
sweeper takes the transfer back (bumping its attempt token) and a second attempt sends
the file; then the first session is thawed, finishes its upload, checks its token
before the rename and gives up. The receiver ends with the file once, from the second.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jobs.tick import sweep_dead_work
from jobs.transfer import transfer
from loyalty.db import utcnow
from tests.integration.runs.conftest import latest, received, sha256
from webapp.extensions import db
from webapp.models.runs import FileRole, Transfer, TransferStatus
from webapp.services import progress, runs

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        for child in children.read_text().split() if children.exists() else []:
            found += [int(child), *_descendants(int(child))]
    return found


def _new_sessions(pid: int, before: set[int]) -> list[int]:
    return [p for p in _descendants(pid) if p not in before]


def _wait(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.001)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_sweepers_takeover_fences_the_first_upload(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any, sshd_server: Any
) -> None:
    sync = make_sync("Fenced", rows=96_000, row_width=1000)  # a deliverable of about 96 MB
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()  # the build only: no destination yet, so no transfer is queued
    instance = latest(sync)
    destination, folder = sftp_destination(sync, retries="2")
    (row,) = runs.create_transfers(instance, [destination], None)
    db.session.commit()
    transfer_id = row.id
    (deliverable,) = [f for f in instance.files if f.role == FileRole.DELIVERABLE]
    local = Path(app.config["EXPORT_DIR"]) / deliverable.path

    outcome: list[str] = []

    def first_attempt() -> None:
        with app.app_context():
            outcome.append(transfer(transfer_id))

    before = set(_descendants(sshd_server.process.pid))
    worker = threading.Thread(target=first_attempt, daemon=True)
    worker.start()
    frozen: list[int] = []
    try:
        # Frozen as soon as its session exists: a freeze after the first bytes would race
        # an upload that may finish first on a busy machine. The job's upload is under
        # way either way: it took its token, and it renames only after the thaw.
        _wait(lambda: _new_sessions(sshd_server.process.pid, before), "the first session")
        frozen = _new_sessions(sshd_server.process.pid, before)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        assert worker.is_alive() and received(folder) == {}, "the first attempt ended too soon"
        assert progress.read("transfer", transfer_id).get("status") == "transferring"

        # The sweeper takes the transfer back (as if the heartbeat had not reached the
        # database for over HEARTBEAT_STALE_SECONDS) ...
        assert sweep_dead_work(utcnow() + timedelta(hours=1)) == 1
        db.session.expire_all()
        row = db.session.get(Transfer, transfer_id)
        assert row is not None and row.status == TransferStatus.RETRYING
        assert row.attempt_token == 1
        # ... and the second attempt sends the file.
        assert transfer(transfer_id) == "succeeded"
        assert received(folder) == {deliverable.name: sha256(local)}
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    worker.join(120)
    assert outcome == ["superseded"]
    # Exactly one file, the second attempt's; no temporary file of the first is left.
    assert sorted(os.listdir(folder)) == [deliverable.name]
    db.session.expire_all()
    row = db.session.get(Transfer, transfer_id)
    assert row is not None and row.status == TransferStatus.SUCCEEDED
    assert [a.succeeded for a in row.attempts] == [False, True]
