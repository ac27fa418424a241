"""The scheduler tick: run every minute by rq-scheduler under the deployment's tick id
(``<QUEUE_PREFIX>-tick``, see jobs.worker).

Each tick, from the database (Redis only carries the work):

1. creates the scheduled runs that are due, one per (sync, scheduled time) thanks to a
   unique constraint, so a second scheduler or a repeated tick never doubles a run;
   a sync whose slots were missed while everything was down runs once, and says so;
2. sweeps builds and transfers whose worker died (stale heartbeat): builds fail with
   that message, transfer attempts are retried while retries remain;
3. enqueues transfer retries whose back-off has passed, and runs whose job was lost;
4. judges passed delivery deadlines, sends late alerts and all-clears (jobs.deadlines),
   queues due webhook retries (jobs.webhooks) and expiry warnings (jobs.expiry).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

from flask import current_app
from redis import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from jobs.build import fail_build, run_dir
from jobs.context import job_context
from jobs.deadlines import check_deadlines
from jobs.expiry import check_expiries
from jobs.retention import purge_due
from jobs.transfer import finish_transfer
from jobs.webhooks import enqueue_due_deliveries
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.runs import (
    CreationStatus,
    SyncInstance,
    Transfer,
    TransferAttempt,
    TransferStatus,
    Trigger,
)
from webapp.models.syncs import Sync
from webapp.services import audit, dispatch, health
from webapp.services.schedule import parse_time, slots_between

# A pending run whose job vanished (Redis restarted, job expired) is enqueued again after this.
LOST_JOB_GRACE = timedelta(seconds=90)
LOST_JOB_NOTE = "Re-queued after its job was lost (Redis restarted or was flushed)."
QUEUED_LATE_NOTE = "Queued by the minute sweep once Redis answered again."


def tick(now: datetime | None = None) -> dict[str, int]:
    with job_context():
        now = now or utcnow()
        created = create_due_runs(now)
        swept = sweep_dead_work(now)
        resumed = enqueue_due_work(now)
        late = check_deadlines(now)
        resumed += enqueue_due_deliveries(now)
        warned = check_expiries(now)
        purge_queued = purge_due(now)  # once a UTC day (jobs.retention)
        health.record_tick(now)  # /readyz and the Status page
        return {
            "purge_queued": purge_queued,
            "created": created,
            "swept": swept,
            "enqueued": resumed,
            "late": late,
            "expiry_warnings": warned,
        }


def create_due_runs(now: datetime) -> int:
    created: list[SyncInstance] = []
    for sync in db.session.scalars(select(Sync).where(Sync.enabled.is_(True)).order_by(Sync.id)):
        since = sync.last_scheduled_for or sync.enabled_changed_at or now
        slots = slots_between(parse_time(sync.execution_time), sync.timezone, since, now)
        if not slots:
            continue
        latest = slots[-1]
        missed = len(slots) - 1
        note = None
        if missed:
            note = (
                f"{missed} earlier scheduled run(s) were missed while the service was stopped "
                f"(first {slots[0].local:%Y-%m-%d %H:%M %Z}); this run covers them."
            )
        elif latest.shifted:
            note = f"{sync.execution_time} did not exist that day (DST); run at {latest.local:%H:%M %Z}."
        instance = SyncInstance(
            sync_id=sync.id, trigger=Trigger.SCHEDULED, scheduled_for=latest.at, note=note
        )
        savepoint = db.session.begin_nested()
        try:
            db.session.add(instance)
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()  # another scheduler created this minute's run first
        else:
            savepoint.commit()
            created.append(instance)
            audit.record("run.scheduled", obj=instance, sync_id=sync.id, actor="scheduler")
        sync.last_scheduled_for = max(latest.at, sync.last_scheduled_for or latest.at)
    db.session.commit()
    for instance in created:
        dispatch.enqueue_build(instance)
    db.session.commit()
    return len(created)


def sweep_dead_work(now: datetime) -> int:
    stale = now - timedelta(seconds=current_app.config["HEARTBEAT_STALE_SECONDS"])
    count = 0
    for instance in db.session.scalars(
        select(SyncInstance).where(
            SyncInstance.creation_status == CreationStatus.RUNNING,
            SyncInstance.heartbeat_at < stale,
        )
    ):
        shutil.rmtree(run_dir(current_app._get_current_object(), instance), ignore_errors=True)  # type: ignore[attr-defined]
        instance.job_id = None
        fail_build(
            instance,
            f"The worker building this run stopped (no heartbeat since {instance.heartbeat_at:%H:%M:%S} UTC); "
            "the next run includes everything this one would have.",
        )
        count += 1
    for row in db.session.scalars(
        select(Transfer).where(
            Transfer.status == TransferStatus.TRANSFERRING, Transfer.heartbeat_at < stale
        )
    ):
        attempt = db.session.scalar(
            select(TransferAttempt)
            .where(TransferAttempt.transfer_id == row.id)
            .order_by(TransferAttempt.number.desc())
            .limit(1)
        )
        message = "The worker sending this file stopped mid-transfer."
        row.job_id = None  # RQ may still list the dead job as started
        # Fence the old attempt: if its worker is only cut off from the database (not
        # dead), it checks this token before its rename and gives up.
        row.attempt_token = (row.attempt_token or 0) + 1
        if attempt is not None:
            attempt.error, attempt.error_kind, attempt.retryable = message, "worker_lost", True
        if attempt is not None and attempt.number < row.max_attempts:
            finish_transfer(row, attempt, TransferStatus.RETRYING, message, retry_in=0)
        else:
            finish_transfer(row, attempt, TransferStatus.FAILED, message)
        count += 1
    return count


def enqueue_due_work(now: datetime) -> int:
    """Queue transfer retries whose back-off has passed, and runs and transfers waiting
    for a job that Redis no longer has (it restarted without persistence, was flushed,
    or lost the job): each exactly once, and the run says so."""
    count = 0
    due = select(Transfer).where(
        ((Transfer.status == TransferStatus.RETRYING) & (Transfer.next_attempt_at <= now))
        | (
            (Transfer.status == TransferStatus.PENDING)
            & (Transfer.created_at < now - LOST_JOB_GRACE)
        )
    )
    for row in list(db.session.scalars(due)):
        if _requeue(Transfer, row, lost=row.status == TransferStatus.PENDING):
            count += 1
    for instance in list(
        db.session.scalars(
            select(SyncInstance).where(
                SyncInstance.creation_status == CreationStatus.PENDING,
                SyncInstance.created_at < now - LOST_JOB_GRACE,
            )
        )
    ):
        if _requeue(SyncInstance, instance, lost=True):
            count += 1
    db.session.commit()
    return count


def _requeue(
    model: type[SyncInstance] | type[Transfer], row: SyncInstance | Transfer, lost: bool
) -> bool:
    """Queue ``row``'s job again when Redis no longer has it, exactly once.

    The claim is in the database, not in Redis (which is what lost the job): one
    conditional UPDATE moves the row's ``job_id`` from the lost id to a fresh one, so of
    two sweeps (two schedulers, a repeated tick) only the one whose UPDATE matched
    enqueues; the job is queued under the claimed id afterwards. If Redis is down the
    next sweep tries again (the claimed id is not in Redis either).
    """
    lost_id = row.job_id
    try:
        if dispatch.job_is_alive(lost_id):
            return False
    except RedisError:
        return False  # Redis down: nothing can be queued now; the next minute tries again
    kind = "build" if model is SyncInstance else "transfer"
    new_id = dispatch.new_job_id(kind, row.id)
    claim = db.session.connection().execute(
        update(model)
        .where(
            model.id == row.id,
            model.job_id.is_(None) if lost_id is None else model.job_id == lost_id,
        )
        .values(job_id=new_id)
        .execution_options(synchronize_session=False)
    )
    if claim.rowcount != 1:
        db.session.rollback()
        return False  # another sweep claimed it first
    instance = row if isinstance(row, SyncInstance) else row.instance
    if lost:
        what = "" if isinstance(row, SyncInstance) else f"Transfer to {row.destination_name}: "
        instance.note = f"{what}{LOST_JOB_NOTE if lost_id else QUEUED_LATE_NOTE}"[:500]
        audit.record(
            f"{kind}.requeued",
            obj=row,
            sync_id=instance.sync_id,
            detail={"lost_job": lost_id, "job": new_id},
            actor="scheduler",
        )
    db.session.commit()
    row.job_id = new_id
    try:
        if isinstance(row, SyncInstance):
            dispatch.enqueue_build(row, job_id=new_id)
        else:
            dispatch.enqueue_transfer(row, job_id=new_id)
    except dispatch.QueueUnavailable:
        return False
    return True
