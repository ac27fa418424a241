"""Helpers for run tests: syncs of the test type, destinations on the real test servers,
and running the queued jobs in-process with a burst SimpleWorker."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import SimpleWorker

from exporters.base import SyncType
from webapp.extensions import db
from webapp.models.runs import SyncInstance
from webapp.models.syncs import Destination, Sync
from webapp.services import destinations
from webapp.services.dispatch import queue_names
from webapp.services.redis_client import redis_client


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def run_jobs(app: Flask) -> Callable[[], None]:
    """Run every queued build and transfer in this process, until the queues are empty."""

    def run() -> None:
        SimpleWorker(list(queue_names()), connection=redis_client()).work(
            burst=True, with_scheduler=False
        )
        db.session.expire_all()

    return run


@pytest.fixture
def make_sync(app: Flask, platform_test_type: SyncType) -> Callable[..., Sync]:
    def make(name: str = "Run test", **options: Any) -> Sync:
        sync = Sync(type_key=platform_test_type.key, name=name, options={"rows": 3, **options})
        db.session.add(sync)
        db.session.commit()
        return sync

    return make


@pytest.fixture
def sftp_destination(sshd_server: Any) -> Callable[..., tuple[Destination, Path]]:
    """A destination on the test sshd uploading into a fresh folder; returns it and the folder."""

    def make(sync: Sync, **overrides: Any) -> tuple[Destination, Path]:
        remote, local = sshd_server.fresh_dir()
        fields = {
            "name": f"SFTP {remote}",
            "host": sshd_server.host,
            "protocol": "sftp",
            "port": str(sshd_server.port),
            "directory": remote,
            "username": sshd_server.username,
            "password": sshd_server.password,
            "password_confirm": sshd_server.password,
            "retries": "0",
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
            "host_key_type": sshd_server.host_key_type,
        }
        fields.update(overrides)
        destination = destinations.add_destination(sync, fields, user=None)
        db.session.commit()
        return destination, local

    return make


def received(folder: Path) -> dict[str, str]:
    """The files a receiver sees (never hidden temporary ones): name -> sha256."""
    return {p.name: sha256(p) for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def latest(sync: Sync) -> SyncInstance:
    db.session.expire_all()
    instance = db.session.scalars(
        db.select(SyncInstance)
        .where(SyncInstance.sync_id == sync.id)
        .order_by(SyncInstance.id.desc())
    ).first()
    assert instance is not None
    return instance
