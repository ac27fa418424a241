"""Acting on a run (issue 14, item 3): Cancel a waiting run or transfer, Retry a transfer now.

Each action checks SYNC_RUN, is audited, and changes the status with one conditional
UPDATE (``... WHERE status IN (<the states it may act on>)``), so it is atomic against
the worker: the build job and the transfer job claim their row the same way
(``jobs.build`` moves a run from pending to running, ``jobs.transfer`` a transfer from
pending/retrying to transferring, both conditionally), so exactly one of "the person
cancelled it" and "a worker started it" wins. The loser is told why: a person gets a
ValidationError naming the state the run is in now; a worker's job finds nothing to do.

A cancelled transfer also gets its attempt token bumped (the fence of
``Transfer.attempt_token``), so a job of it already sitting in the queue, or the tick's
retry, does nothing when it runs.

*Retry now* keeps the attempt history: it reopens the same transfer row (its attempts
stay; the next attempt is numbered after them) rather than starting a new round, and
enqueues it at once instead of waiting for the back-off.

``user`` is None for the command line (``actor`` then signs the audit entry).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from loyalty.db import utcnow
from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.models.runs import (
    CreationStatus,
    FileRole,
    SyncInstance,
    Transfer,
    TransferAttempt,
    TransferStatus,
)
from webapp.models.users import User
from webapp.services import audit, dispatch, run_status
from webapp.services.permissions import SYNC_RUN, require

CANCELLABLE_TRANSFER = (TransferStatus.PENDING, TransferStatus.RETRYING)
RETRYABLE_TRANSFER = (TransferStatus.FAILED, TransferStatus.RETRYING)

_MOVED_ON = {
    TransferStatus.TRANSFERRING: "it is being sent right now",
    TransferStatus.SUCCEEDED: "it was already delivered",
    TransferStatus.FAILED: "it has already failed",
    TransferStatus.CANCELLED: "it was already cancelled",
    TransferStatus.PENDING: "it is already waiting for a worker",
    TransferStatus.RETRYING: "it is retrying",
}
_RUN_MOVED_ON = {
    CreationStatus.RUNNING: "its files are being created right now",
    CreationStatus.SUCCEEDED: "its files were already created",
    CreationStatus.FAILED: "it has already failed",
    CreationStatus.NO_DATA: "it already finished (no data)",
    CreationStatus.CANCELLED: "it was already cancelled",
}


def _who(user: User | None, actor: str | None) -> str:
    return user.email if user is not None else (actor or audit.cli_actor())


def _name(transfer: Transfer) -> str:
    return f"The transfer to {transfer.destination_name}"


def cancel_run(instance: SyncInstance, *, user: User | None, actor: str | None = None) -> None:
    """Cancel a run that waits: its build if not started, else its transfers not started.

    A run whose files are being created, or whose transfers are all sending or done, is
    refused with the reason.
    """
    if user is not None:
        require(user, SYNC_RUN)
    who = _who(user, actor)
    now = utcnow()
    claimed = (
        db.session.connection()
        .execute(
            update(SyncInstance)
            .where(
                SyncInstance.id == instance.id,
                SyncInstance.creation_status == CreationStatus.PENDING,
            )
            .values(
                creation_status=CreationStatus.CANCELLED,
                creation_finished_at=now,
                error=f"Cancelled by {who}.",
                note=None,
            )
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    if claimed:
        run_status.refresh(db.session, [instance.id])
        audit.record("run.cancel", obj=instance, sync_id=instance.sync_id, user=user, actor=actor)
        db.session.commit()
        db.session.refresh(instance)
        return
    db.session.rollback()
    db.session.refresh(instance)
    status = CreationStatus(instance.creation_status)
    if status == CreationStatus.SUCCEEDED:
        waiting = [
            t
            for t in run_status.latest_rounds(instance.transfers)
            if TransferStatus(t.status) in CANCELLABLE_TRANSFER
        ]
        if waiting:
            cancelled = _cancel_transfers(waiting, who)
            if cancelled:
                audit.record(
                    "run.cancel",
                    obj=instance,
                    sync_id=instance.sync_id,
                    detail={"destinations": [t.destination_name for t in cancelled]},
                    user=user,
                    actor=actor,
                )
                db.session.commit()
                db.session.expire(instance)
                return
            db.session.rollback()
        raise ValidationError(
            f"Run {instance.sequence or instance.id} cannot be cancelled: its files were "
            "already created and no transfer of it is waiting."
        )
    raise ValidationError(
        f"Run {instance.sequence or instance.id} cannot be cancelled: "
        f"{_RUN_MOVED_ON.get(status, str(status))}."
    )


def _cancel_transfers(transfers: Iterable[Transfer], who: str) -> list[Transfer]:
    """Cancel each transfer still waiting or retrying (one conditional UPDATE each);
    returns those cancelled. The caller audits and commits."""
    now = utcnow()
    cancelled = []
    for transfer in transfers:
        done = (
            db.session.connection()
            .execute(
                update(Transfer)
                .where(Transfer.id == transfer.id, Transfer.status.in_(CANCELLABLE_TRANSFER))
                .values(
                    status=TransferStatus.CANCELLED,
                    finished_at=now,
                    next_attempt_at=None,
                    error=f"Cancelled by {who}.",
                    attempt_token=Transfer.attempt_token + 1,
                )
                .execution_options(synchronize_session=False)
            )
            .rowcount
        )
        if done:
            cancelled.append(transfer)
    if cancelled:
        run_status.refresh(db.session, {t.instance_id for t in cancelled})
        for transfer in cancelled:
            db.session.expire(transfer)
    return cancelled


def cancel_transfer(transfer: Transfer, *, user: User | None, actor: str | None = None) -> None:
    """Cancel a transfer that waits for a worker or for its next retry."""
    if user is not None:
        require(user, SYNC_RUN)
    if _cancel_transfers([transfer], _who(user, actor)):
        audit.record(
            "transfer.cancel",
            obj=transfer,
            sync_id=transfer.instance.sync_id,
            detail={"destination": transfer.destination_name, "run": transfer.instance_id},
            user=user,
            actor=actor,
        )
        db.session.commit()
        return
    db.session.rollback()
    db.session.refresh(transfer)
    raise ValidationError(
        f"{_name(transfer)} cannot be cancelled: {_MOVED_ON[TransferStatus(transfer.status)]}."
    )


def retry_transfer_now(
    transfer: Transfer, *, user: User | None, actor: str | None = None
) -> Transfer:
    """Send a failed or retrying transfer again now: no back-off wait, same row, its
    earlier attempts kept. Refused when the files are gone, the destination was deleted,
    a newer round exists, or the transfer moved on."""
    if user is not None:
        require(user, SYNC_RUN)
    instance = transfer.instance
    status = TransferStatus(transfer.status)
    if status not in RETRYABLE_TRANSFER:
        raise ValidationError(f"{_name(transfer)} cannot be retried: {_MOVED_ON[status]}.")
    if transfer.destination_id is None:
        raise ValidationError(f"{_name(transfer)} cannot be retried: the destination was deleted.")
    newer = db.session.scalar(
        select(func.count(Transfer.id)).where(
            Transfer.instance_id == transfer.instance_id,
            Transfer.destination_id == transfer.destination_id,
            Transfer.round > transfer.round,
        )
    )
    if newer:
        raise ValidationError(
            f"{_name(transfer)} cannot be retried: a newer transfer of this run to "
            f"{transfer.destination_name} exists; retry that one."
        )
    if not [f for f in instance.files if f.role == FileRole.DELIVERABLE]:
        raise ValidationError(
            f"{_name(transfer)} cannot be retried: this run's files are no longer stored."
        )
    attempts = (
        db.session.scalar(
            select(func.count(TransferAttempt.id)).where(TransferAttempt.transfer_id == transfer.id)
        )
        or 0
    )
    claimed = (
        db.session.connection()
        .execute(
            update(Transfer)
            .where(
                Transfer.id == transfer.id,
                Transfer.status.in_(RETRYABLE_TRANSFER),
                Transfer.attempt_token == transfer.attempt_token,
            )
            .values(
                status=TransferStatus.PENDING,
                # One more attempt than it has had: the next one is numbered after them.
                max_attempts=func.max(Transfer.max_attempts, attempts + 1)
                if db.engine.dialect.name == "sqlite"
                else func.greatest(Transfer.max_attempts, attempts + 1),
                next_attempt_at=None,
                finished_at=None,
                error=None,
                requested_by_id=user.id if user is not None else Transfer.requested_by_id,
            )
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    if not claimed:
        db.session.rollback()
        db.session.refresh(transfer)
        raise ValidationError(
            f"{_name(transfer)} cannot be retried: {_MOVED_ON[TransferStatus(transfer.status)]}."
        )
    run_status.refresh(db.session, [transfer.instance_id])
    audit.record(
        "transfer.retry_now",
        obj=transfer,
        sync_id=instance.sync_id,
        detail={
            "destination": transfer.destination_name,
            "run": transfer.instance_id,
            "was": status.value,
            "attempts_so_far": attempts,
        },
        user=user,
        actor=actor,
    )
    db.session.commit()
    db.session.refresh(transfer)
    dispatch.enqueue_transfer(transfer)
    db.session.commit()
    return transfer
