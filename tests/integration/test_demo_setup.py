"""The out-of-the-box demo: a seeded program, demo syncs, and the pure-Python demo SFTP
and FTPS receivers actually receiving a run's files."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from rq import SimpleWorker

from devservers.receivers import (
    ReceiverPortBusy,
    ReceiverSettings,
    receiver_settings,
    start_receivers,
)
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
def receivers(demo_root: Path) -> Iterator[ReceiverSettings]:
    with start_receivers(receiver_settings(demo_root)) as settings:
        yield settings


def test_demo_runs_deliver_to_the_demo_receivers(
    app: Flask, demo_root: Path, receivers: ReceiverSettings
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


@pytest.mark.parametrize("taken", ["sftp", "ftps"])
def test_a_taken_port_is_named_and_leaves_nothing_running(demo_root: Path, taken: str) -> None:
    settings = receiver_settings(demo_root)
    port = settings.sftp_port if taken == "sftp" else settings.ftps_port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(ReceiverPortBusy) as refused, start_receivers(settings):
            pass
        message = str(refused.value)
        assert f"127.0.0.1:{port}" in message
        assert ("DEMO_SFTP_PORT" if taken == "sftp" else "DEMO_FTPS_PORT") in message
    # The other receiver was not left listening: both ports are free again.
    for free in (settings.sftp_port, settings.ftps_port):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", free))
