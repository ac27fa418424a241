"""Runs end to end with real Redis, RQ, sshd and vsftpd: the design's invariants 1, 3, 4, 8."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from jobs.tick import tick
from loyalty.db import utcnow
from tests.integration.runs.conftest import latest, received, sha256
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import CreationStatus, FileRole, SyncFile, TransferStatus
from webapp.models.syncs import Compression
from webapp.services import destinations, runs, users

pytestmark = pytest.mark.integration


def test_every_destination_receives_the_same_bytes(
    app: Flask, make_sync: Any, sftp_destination: Any, vsftpd_server: Any, run_jobs: Any
) -> None:
    sync = make_sync(rows=500)
    sync.compression = Compression.GZIP
    db.session.commit()
    _, first = sftp_destination(sync)
    _, second = sftp_destination(sync)
    remote, ftps_folder = vsftpd_server.fresh_dir()
    destinations.add_destination(
        sync,
        {
            "name": "FTPS partner",
            "host": vsftpd_server.host,
            "protocol": "ftps_explicit",
            "port": str(vsftpd_server.port),
            "directory": remote,
            "username": vsftpd_server.username,
            "password": vsftpd_server.password,
            "password_confirm": vsftpd_server.password,
            "tls_fingerprint": vsftpd_server.cert_fingerprint,
        },
        user=None,
    )
    db.session.commit()
    instance = runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.SUCCEEDED
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED] * 3
    (deliverable,) = instance.deliverables
    assert deliverable.name.endswith(".txt.gz")
    expected = {deliverable.name: deliverable.sha256}
    assert received(first) == received(second) == received(ftps_folder) == expected
    export_root = Path(app.config["EXPORT_DIR"])
    assert sha256(export_root / deliverable.path) == deliverable.sha256


def test_down_destination_retries_then_fails_and_retransfer_sends_stored_bytes(
    app: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    closed_port: int,
    sshd_server: Any,
) -> None:
    sync = make_sync(rows=50)
    _, good = sftp_destination(sync)
    down, down_folder = sftp_destination(sync, port=str(closed_port), retries="2")
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    by_name = {t.destination_name: t for t in instance.transfers}
    assert by_name[sync.destinations[0].name].status == TransferStatus.SUCCEEDED
    failing = by_name[down.name]
    assert failing.status == TransferStatus.RETRYING
    for _ in range(2):  # back-off is 0 s in tests; the tick enqueues due retries
        tick(utcnow())
        run_jobs()
    db.session.expire_all()
    failing = db.session.get(type(failing), failing.id)
    assert failing.status == TransferStatus.FAILED
    assert [a.error_kind for a in failing.attempts] == ["refused"] * 3
    assert all(a.retryable for a in failing.attempts)
    assert "notify.failure" in db.session.scalars(select(AuditEvent.action)).all()
    # The receiver comes back: re-transfer the stored file, never rebuild it.
    files_before = db.session.scalar(select(func.count()).select_from(SyncFile))
    destinations.update_destination(
        down,
        {
            "name": down.name,
            "host": down.host,
            "protocol": "sftp",
            "port": str(sync.destinations[0].port),
            "directory": down.directory,
            "username": down.username,
            "retries": "2",
            "host_key_fingerprint": sync.destinations[0].host_key_fingerprint,
            # A new port: the stored password never follows a changed endpoint.
            "password": sshd_server.password,
            "password_confirm": sshd_server.password,
        },
        user=None,
    )
    db.session.commit()
    runs.request_retransfer(instance, user=None, destination_id=down.id, actor="test")
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(SyncFile)) == files_before
    (deliverable,) = latest(sync).deliverables
    assert received(down_folder) == received(good) == {deliverable.name: deliverable.sha256}


def test_changed_host_key_fails_the_transfer_without_retry(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync()
    destination, folder = sftp_destination(sync, retries="3")
    destination.host_key_fingerprint = "SHA256:" + "A" * 43
    db.session.commit()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    (transfer,) = latest(sync).transfers
    assert transfer.status == TransferStatus.FAILED
    assert len(transfer.attempts) == 1  # not worth retrying
    assert "host key" in (transfer.error or "").lower()
    assert received(folder) == {}


def test_revoked_permission_refuses_the_job(
    app: Flask, make_sync: Any, make_user: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    make_user("support")
    manager = make_user("sync_manager")
    sync = make_sync()
    _, folder = sftp_destination(sync)
    runs.start_manual_run(sync, user=manager)
    users.set_role(manager, "viewer")  # rights removed before a worker picks the run up
    db.session.commit()
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.FAILED
    assert "no longer has the permission" in (instance.error or "")
    assert received(folder) == {}
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "run.refused")) is not None
    )


def test_failed_build_keeps_nothing_and_names_the_error(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync(rows=400, fail=True)
    _, folder = sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.FAILED
    assert "told to fail" in (instance.error or "")
    assert instance.files == [] and instance.transfers == []
    assert not (Path(app.config["EXPORT_DIR"]) / f"sync-{sync.id}" / f"run-{instance.id}").exists()
    assert received(folder) == {}
    db.session.refresh(sync)
    assert sync.build_lease_instance_id is None


def test_same_day_runs_never_reuse_a_name(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync()
    _, folder = sftp_destination(sync)
    for _ in range(3):
        runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    names = db.session.scalars(
        select(SyncFile.name).where(SyncFile.role == FileRole.ORIGINAL)
    ).all()
    assert len(names) == len(set(names)) == 3
    assert len(received(folder)) == 3


def test_a_password_never_reaches_logs_errors_or_the_audit_log(
    app: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused login is reported by what failed, never with the secret that was tried."""
    import logging

    secret = "Wrong-Secret-Pw-4711"
    caplog.set_level(logging.DEBUG)  # paramiko, RQ, SQLAlchemy and ours, all of it
    sync = make_sync()
    destination, folder = sftp_destination(
        sync, password=secret, password_confirm=secret, retries="1"
    )
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    (transfer,) = latest(sync).transfers
    assert transfer.status == TransferStatus.FAILED and received(folder) == {}
    errors = [transfer.error or "", *(a.error or "" for a in transfer.attempts)]
    assert any("auth" in e.lower() or "password" in e.lower() for e in errors), errors
    assert all(secret not in e for e in errors)
    assert caplog.records and secret not in caplog.text
    for event in db.session.scalars(select(AuditEvent)):
        assert secret not in repr({c.key: getattr(event, c.key) for c in AuditEvent.__table__.c})
    assert destination.password_encrypted and secret not in destination.password_encrypted
