"""The out-of-the-box demo: a seeded program, demo syncs, and the pure-Python demo SFTP
and FTPS receivers actually receiving a run's files."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import SimpleWorker

from devservers.redis import free_port
from webapp.extensions import db
from webapp.models.runs import CreationStatus, SyncInstance, TransferStatus
from webapp.services import runs
from webapp.services.dispatch import queue_names
from webapp.services.redis_client import redis_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def demo_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEMO_SFTP_PORT", str(free_port()))
    monkeypatch.setenv("DEMO_FTPS_PORT", str(free_port()))
    return tmp_path


@pytest.fixture
def receivers(demo_root: Path) -> Iterator[Any]:
    from devservers.ftps_server import ensure_certificate, make_server
    from devservers.sftp_server import DemoSFTPServer
    from webapp.services.demo_setup import receiver_settings

    settings = receiver_settings(demo_root)
    ensure_certificate(settings.cert_path, settings.key_path)
    sftp = DemoSFTPServer(
        settings.sftp_folder,
        settings.host_key_path,
        settings.sftp_port,
        settings.username,
        settings.password,
    )
    sftp.listen()
    threading.Thread(target=sftp.serve_forever, daemon=True).start()
    ftps = make_server(
        settings.ftps_folder,
        settings.cert_path,
        settings.key_path,
        settings.ftps_port,
        settings.username,
        settings.password,
    )
    thread = threading.Thread(
        target=lambda: ftps.serve_forever(timeout=0.2, handle_exit=False), daemon=True
    )
    thread.start()
    yield settings
    sftp.stop()
    ftps.close_all()


def test_demo_runs_deliver_to_the_demo_receivers(
    app: Flask, demo_root: Path, receivers: Any
) -> None:
    from webapp.services.demo_setup import set_up_demo

    created = set_up_demo(demo_root, say=lambda _message: None)
    assert {s.type_key for s in created} >= {"member_descriptor", "transaction", "interaction"}
    assert all(s.is_demo for s in created)
    assert set_up_demo(demo_root, say=lambda _message: None) == created  # idempotent
    for sync in created:
        runs.start_manual_run(sync, user=None, actor="test")
    SimpleWorker(list(queue_names()), connection=redis_client()).work(
        burst=True, with_scheduler=False
    )
    db.session.expire_all()
    for instance in db.session.scalars(db.select(SyncInstance)):
        assert instance.creation_status == CreationStatus.SUCCEEDED, instance.error
        assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED] * 2, [
            t.error for t in instance.transfers
        ]
        for deliverable in instance.deliverables:
            for folder in (receivers.sftp_folder, receivers.ftps_folder):
                assert (folder / deliverable.name).stat().st_size == deliverable.size
    interactions = next(
        i for i in db.session.scalars(db.select(SyncInstance)) if i.sync.type_key == "interaction"
    )
    assert (
        interactions.rows_written and interactions.rows_written > 0
    )  # the simulated days have work in them
