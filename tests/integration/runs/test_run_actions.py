"""Issue 14, item 3: Cancel and Retry now, with a real Redis, RQ worker and sshd.

Each action is atomic against the worker (a conditional UPDATE on both sides), keeps the
attempt history, is audited, and is refused with the reason when the state moved on.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

import jobs.transfer
from jobs.tick import tick
from loyalty.db import utcnow
from loyalty.errors import ValidationError
from tests.integration.runs.conftest import latest, received
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import (
    CreationStatus,
    RunOutcome,
    SyncFile,
    SyncInstance,
    Transfer,
    TransferStatus,
)
from webapp.models.syncs import Sync
from webapp.services import destinations, dispatch, run_actions, runs
from webapp.services.permissions import PermissionDenied

pytestmark = pytest.mark.integration


def _fix(destination: Any, good: Any, sshd_server: Any) -> None:
    """Point a down destination at the live test sshd (its password again: new port)."""
    destinations.update_destination(
        destination,
        {
            "name": destination.name,
            "host": destination.host,
            "protocol": "sftp",
            "port": str(sshd_server.port),
            "directory": destination.directory,
            "username": destination.username,
            "retries": str(destination.retries),
            "host_key_fingerprint": good.host_key_fingerprint,
            "password": sshd_server.password,
            "password_confirm": sshd_server.password,
        },
        user=None,
    )
    db.session.commit()


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _down_run(
    make_sync: Any, sftp_destination: Any, closed_port: int, run_jobs: Any, **kw: Any
) -> SimpleNamespace:
    """A run with one delivered destination and one down (``kw``: its settings)."""
    sync = make_sync(rows=20)
    good, _ = sftp_destination(sync)
    down, down_folder = sftp_destination(sync, port=str(closed_port), **kw)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    failing = next(t for t in instance.transfers if t.destination_id == down.id)
    return SimpleNamespace(
        sync=sync, good=good, down=down, down_folder=down_folder, failing=failing
    )


def test_retry_now_delivers_a_failed_transfer_and_keeps_its_attempts(
    app: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    closed_port: int,
    sshd_server: Any,
    make_user: Any,
) -> None:
    run = _down_run(make_sync, sftp_destination, closed_port, run_jobs, retries="0")
    sync, failing = run.sync, run.failing
    assert failing.status == TransferStatus.FAILED
    assert latest(sync).outcome == RunOutcome.PARTLY_FAILED
    _fix(run.down, run.good, sshd_server)
    operator = make_user("sync_manager")
    run_actions.retry_transfer_now(failing, user=operator)
    assert db.session.get(Transfer, failing.id).status == TransferStatus.PENDING
    run_jobs()
    row = db.session.get(Transfer, failing.id)
    assert row.status == TransferStatus.SUCCEEDED
    # The same row: the refused attempt is still there, the new one numbered after it.
    assert [(a.number, a.succeeded, a.error_kind) for a in row.attempts] == [
        (1, False, "refused"),
        (2, True, None),
    ]
    (deliverable,) = latest(sync).deliverables
    assert received(run.down_folder) == {deliverable.name: deliverable.sha256}
    assert latest(sync).outcome == RunOutcome.DELIVERED
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "transfer.retry_now")
    ).one()
    assert event.actor == operator.email and event.detail["was"] == "failed"


def test_retry_now_skips_the_back_off_of_a_retrying_transfer(
    app: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    closed_port: int,
    sshd_server: Any,
) -> None:
    app.config["TRANSFER_BACKOFF_SECONDS"] = [3600]
    run = _down_run(make_sync, sftp_destination, closed_port, run_jobs, retries="3")
    sync, failing = run.sync, run.failing
    assert failing.status == TransferStatus.RETRYING
    assert failing.next_attempt_at > utcnow()
    assert latest(sync).outcome == RunOutcome.RETRYING
    _fix(run.down, run.good, sshd_server)
    tick(utcnow())
    run_jobs()
    assert db.session.get(Transfer, failing.id).status == TransferStatus.RETRYING  # still waits
    run_actions.retry_transfer_now(failing, user=None, actor="test")
    run_jobs()
    row = db.session.get(Transfer, failing.id)
    assert row.status == TransferStatus.SUCCEEDED
    assert [a.number for a in row.attempts] == [1, 2]


def test_cancel_of_a_retrying_transfer_makes_its_queued_job_do_nothing(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any, closed_port: int
) -> None:
    run = _down_run(make_sync, sftp_destination, closed_port, run_jobs, retries="3")
    sync, failing = run.sync, run.failing
    assert failing.status == TransferStatus.RETRYING
    dispatch.enqueue_transfer(failing)  # a job of it already sits in the queue
    db.session.commit()
    run_actions.cancel_transfer(failing, user=None, actor="test")
    run_jobs()
    tick(utcnow())
    run_jobs()
    row = db.session.get(Transfer, failing.id)
    assert row.status == TransferStatus.CANCELLED
    assert len(row.attempts) == 1
    assert row.error == "Cancelled by test."
    assert "transfer.cancel" in _actions()
    with pytest.raises(ValidationError, match="already cancelled"):
        run_actions.cancel_transfer(row, user=None, actor="test")
    # Cancelled is not retryable, and one destination delivered: partly failed.
    with pytest.raises(ValidationError, match="already cancelled"):
        run_actions.retry_transfer_now(row, user=None, actor="test")
    assert latest(sync).outcome == RunOutcome.PARTLY_FAILED


def test_a_transfer_cancelled_after_its_job_loaded_it_is_not_sent(
    app: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race: the job has read the row (still pending) when the person cancels; the
    job's conditional claim finds it cancelled and sends nothing."""
    sync = make_sync(rows=5)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    destination, folder = sftp_destination(sync)
    (row,) = runs.create_transfers(instance, [destination], None)
    db.session.commit()
    transfer_id = row.id
    real_refusal = jobs.transfer._transfer_refusal

    def cancel_meanwhile(loaded: Transfer) -> str | None:
        with db.engine.begin() as other:  # another process: the person's request
            other.execute(
                update(Transfer)
                .where(Transfer.id == transfer_id)
                .values(status=TransferStatus.CANCELLED, attempt_token=Transfer.attempt_token + 1)
            )
        return real_refusal(loaded)

    monkeypatch.setattr(jobs.transfer, "_transfer_refusal", cancel_meanwhile)
    assert jobs.transfer.transfer(transfer_id) == "moved on"
    db.session.expire_all()
    assert db.session.get(Transfer, transfer_id).status == TransferStatus.CANCELLED
    assert db.session.get(Transfer, transfer_id).attempts == []
    assert received(folder) == {}


def test_cancel_of_a_waiting_run_builds_nothing_and_frees_the_sync(
    app: Flask, make_sync: Any, run_jobs: Any, make_user: Any
) -> None:
    sync = make_sync(rows=5)
    instance = runs.start_manual_run(sync, user=None, actor="test")  # its build job is queued
    operator = make_user("sync_manager")
    run_actions.cancel_run(instance, user=operator)
    run_jobs()
    run = db.session.get(SyncInstance, instance.id)
    assert run.creation_status == CreationStatus.CANCELLED
    assert run.outcome == RunOutcome.CANCELLED
    assert run.error == f"Cancelled by {operator.email}."
    assert db.session.scalars(select(SyncFile).where(SyncFile.instance_id == run.id)).all() == []
    assert db.session.get(Sync, sync.id).build_lease_instance_id is None
    assert "run.cancel" in _actions()
    with pytest.raises(ValidationError, match="already cancelled"):
        run_actions.cancel_run(run, user=operator)
    # The next run of the sync builds normally, numbered after the cancelled one.
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    following = latest(sync)
    assert following.creation_status == CreationStatus.SUCCEEDED
    assert (run.sequence, following.sequence) == (1, 2)


def test_refusals_name_the_state_that_moved_on(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any, make_user: Any
) -> None:
    sync = make_sync(rows=5)
    sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    (delivered,) = instance.transfers
    viewer = make_user("viewer")
    before = _actions()
    with pytest.raises(ValidationError, match="already delivered"):
        run_actions.cancel_transfer(delivered, user=None, actor="test")
    with pytest.raises(ValidationError, match="already delivered"):
        run_actions.retry_transfer_now(delivered, user=None, actor="test")
    with pytest.raises(ValidationError, match="already created and no transfer of it is waiting"):
        run_actions.cancel_run(instance, user=None, actor="test")
    with pytest.raises(PermissionDenied):
        run_actions.cancel_run(instance, user=viewer)
    with pytest.raises(PermissionDenied):
        run_actions.retry_transfer_now(delivered, user=viewer)
    assert _actions() == before  # refusals change and audit nothing
    assert db.session.get(Transfer, delivered.id).status == TransferStatus.SUCCEEDED


def test_a_run_cancelled_after_its_build_job_loaded_it_builds_nothing(
    app: Flask, make_sync: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race on the build side: the job has read the run (still pending) when the
    person cancels; its conditional claim finds it cancelled, builds nothing and gives
    the sync's build lease back."""
    import jobs.build

    sync = make_sync(rows=5)
    instance = runs.start_manual_run(sync, user=None, actor="test")
    instance_id = instance.id
    real_refusal = jobs.build._build_refusal

    def cancel_meanwhile(loaded: SyncInstance, loaded_sync: Sync) -> str | None:
        with db.engine.begin() as other:  # another process: the person's request
            other.execute(
                update(SyncInstance)
                .where(SyncInstance.id == instance_id)
                .values(creation_status=CreationStatus.CANCELLED)
            )
        return real_refusal(loaded, loaded_sync)

    monkeypatch.setattr(jobs.build, "_build_refusal", cancel_meanwhile)
    assert jobs.build.create_files(instance_id) == "moved on"
    db.session.expire_all()
    assert db.session.get(SyncInstance, instance_id).creation_status == CreationStatus.CANCELLED
    assert (
        db.session.scalars(select(SyncFile).where(SyncFile.instance_id == instance_id)).all() == []
    )
    assert db.session.get(Sync, sync.id).build_lease_instance_id is None
