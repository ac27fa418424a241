"""Delivery deadlines ("delivered to every destination by HH:MM") and run outcomes.

The tick calls :func:`check_deadlines` every minute. For each enabled sync with a
deadline, the deadline of each recent execution slot (``schedule.deadline_after``: the
sync's zone, DST-correct) is judged once it has passed: one ``DeadlineCheck`` row per
(sync, local day), unique in the database, so the alert goes out once. A late day stays
open (the console shows "Late") until a run delivers everywhere; then the all-clear goes
out. Alerts go to the sync's notice addresses (``jobs.notify.send_mail``) and webhooks.

:func:`run_settled` is called when a run's build fails or a transfer ends: once every
destination's latest transfer is final it tells webhooks ``failed``, ``partly_failed``
or ``delivered``, once per webhook however many transfers see it settle (a claim).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from jobs.notify import send_mail
from webapp.extensions import db
from webapp.models.notifications import DeadlineCheck, WebhookEvent
from webapp.models.runs import CreationStatus, SyncInstance, TransferStatus
from webapp.models.syncs import Sync
from webapp.services import audit, webhooks
from webapp.services.runs import latest_transfers
from webapp.services.schedule import Slot, deadline_after, parse_time, slots_between

# A deadline that passed longer ago than this (the scheduler was down) is not judged.
JUDGE_WITHIN = timedelta(hours=12)


def check_deadlines(now: datetime) -> int:
    """Judge passed deadlines and close late days that have since delivered; returns alerts."""
    alerts = 0
    query = select(Sync).where(Sync.enabled.is_(True), Sync.delivery_deadline.is_not(None))
    for sync in db.session.scalars(query.order_by(Sync.id)).all():
        recover(sync, now)
        for slot in slots_between(
            parse_time(sync.execution_time), sync.timezone, now - timedelta(days=2), now
        ):
            deadline = deadline_after(slot, parse_time(sync.delivery_deadline or ""), sync.timezone)
            if not (deadline.at <= now < deadline.at + JUDGE_WITHIN):
                continue
            if sync.enabled_changed_at and sync.enabled_changed_at > slot.at:
                continue  # the sync was off when this day's run was due
            alerts += _judge(sync, slot, deadline, now)
    return alerts


def delivered(instance: SyncInstance, by: datetime | None = None) -> bool:
    """True when the run delivered to every destination (by ``by``, if given)."""
    if instance.creation_status == CreationStatus.NO_DATA:
        return by is None or (instance.creation_finished_at or by) <= by
    if instance.creation_status != CreationStatus.SUCCEEDED:
        return False
    if by is not None and (
        instance.creation_finished_at is None or instance.creation_finished_at > by
    ):
        return False
    return all(
        t.status == TransferStatus.SUCCEEDED
        and (by is None or (t.finished_at is not None and t.finished_at <= by))
        for t in latest_transfers(instance)
    )


def _candidates(sync: Sync, slot_at: datetime, until: datetime | None) -> list[SyncInstance]:
    """The runs that can deliver a day's files: the slot's own, and any started after it."""
    later = SyncInstance.created_at >= slot_at
    if until is not None:
        later = later & (SyncInstance.created_at <= until)
    return list(
        db.session.scalars(
            select(SyncInstance)
            .where(
                SyncInstance.sync_id == sync.id, or_(SyncInstance.scheduled_for == slot_at, later)
            )
            .order_by(SyncInstance.id)
        )
    )


def _reason(runs: list[SyncInstance]) -> str:
    if not runs:
        return "no run started"
    run = runs[-1]
    status = CreationStatus(run.creation_status)
    if status in (CreationStatus.PENDING, CreationStatus.RUNNING):
        return f"run #{run.id} is still {'building' if status == CreationStatus.RUNNING else 'waiting to build'}"
    if status == CreationStatus.FAILED:
        return f"run #{run.id}: file creation failed ({(run.error or '')[:200]})"
    waiting = [
        f"{t.destination_name} {t.status}"
        for t in latest_transfers(run)
        if t.status != TransferStatus.SUCCEEDED
    ]
    return f"run #{run.id}: not delivered to " + ", ".join(waiting)


def _judge(sync: Sync, slot: Slot, deadline: Slot, now: datetime) -> int:
    runs = _candidates(sync, slot.at, deadline.at)
    on_time = any(delivered(run, by=deadline.at) for run in runs)
    check = DeadlineCheck(
        sync_id=sync.id,
        day=slot.local.date(),
        slot_at=slot.at,
        deadline_at=deadline.at,
        checked_at=now,
        late_at=None if on_time else now,
        reason=None if on_time else _reason(runs)[:500],
    )
    savepoint = db.session.begin_nested()
    try:
        db.session.add(check)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()  # judged already (an earlier tick, another scheduler)
        return 0
    savepoint.commit()
    if on_time:
        db.session.commit()
        return 0
    when = f"{deadline.local:%Y-%m-%d %H:%M %Z}"
    subject = f"[Loyalty Sync] {sync.name}: not delivered by {when}"
    lines = [
        f"Sync: {sync.name} (#{sync.id}, {sync.type_key})",
        f"Delivery deadline: {sync.delivery_deadline} {sync.timezone} ({when})",
        f"Late because: {check.reason}",
        "",
        f"Dashboard: {_dashboard(sync)}",
    ]
    sent = send_mail(
        list(sync.notify_emails or []), subject, lines, what=f"late alert for sync {sync.id}"
    )
    audit.record(
        "notify.late",
        obj=check,
        sync_id=sync.id,
        detail={"day": check.day.isoformat(), "reason": check.reason, "sent": sent},
        actor="scheduler",
    )
    db.session.commit()
    webhooks.emit(
        WebhookEvent.LATE,
        sync,
        instance=runs[-1] if runs else None,
        facts={
            "deadline": {
                "day": check.day.isoformat(),
                "at": deadline.at.isoformat(),
                "reason": check.reason,
            }
        },
    )
    return 1


def recover(sync: Sync, now: datetime) -> bool:
    """Close the sync's open late days once a run since the earliest has delivered everywhere."""
    open_checks = list(
        db.session.scalars(
            select(DeadlineCheck)
            .where(
                DeadlineCheck.sync_id == sync.id,
                DeadlineCheck.late_at.is_not(None),
                DeadlineCheck.recovered_at.is_(None),
            )
            .order_by(DeadlineCheck.slot_at)
        )
    )
    if not open_checks:
        return False
    good = [run for run in _candidates(sync, open_checks[0].slot_at, None) if delivered(run)]
    if not good:
        return False
    run = good[-1]
    for check in open_checks:
        check.recovered_at, check.recovered_by_instance_id = now, run.id
    days = ", ".join(c.day.isoformat() for c in open_checks)
    subject = f"[Loyalty Sync] {sync.name}: delivered again (run #{run.id})"
    lines = [
        f"Sync: {sync.name} (#{sync.id}, {sync.type_key})",
        f"Run #{run.id} delivered to every destination; late since: {days}.",
        "",
        f"Dashboard: {_dashboard(sync)}",
    ]
    sent = send_mail(
        list(sync.notify_emails or []), subject, lines, what=f"all-clear for sync {sync.id}"
    )
    audit.record(
        "notify.recovered",
        obj=run,
        sync_id=sync.id,
        detail={"days": days, "sent": sent},
        actor="scheduler",
    )
    db.session.commit()
    webhooks.emit(WebhookEvent.RECOVERED, sync, instance=run, facts={"late_days": days.split(", ")})
    return True


def run_settled(instance: SyncInstance) -> None:
    """Tell webhooks how a run ended, once its build failed or every transfer is final.
    A failure here is logged, never raised: the run's own outcome is already committed."""
    try:
        if instance.creation_status == CreationStatus.FAILED:
            claim = f"run:{instance.id}:creation_failed"
            webhooks.emit(WebhookEvent.FAILED, instance.sync, instance=instance, claim=claim)
            return
        transfers = latest_transfers(instance)
        if not transfers or not all(TransferStatus(t.status).is_final for t in transfers):
            return
        statuses = {TransferStatus(t.status) for t in transfers}
        if statuses == {TransferStatus.SUCCEEDED}:
            event = WebhookEvent.DELIVERED
        elif statuses == {TransferStatus.FAILED}:
            event = WebhookEvent.FAILED
        else:
            event = WebhookEvent.PARTLY_FAILED
        # Once per settled set of transfers: the last two transfers of a run finishing
        # at the same moment both get here, and only one claim wins. A re-transfer makes
        # new transfers (new ids), so its outcome is told again.
        claim = f"run:{instance.id}:settled:{max(t.id for t in transfers)}"
        webhooks.emit(event, instance.sync, instance=instance, claim=claim)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("webhooks for run %s not queued", instance.id)


def _dashboard(sync: Sync) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/syncs/{sync.id}/dashboard"
