"""The daily retention purge: delete old runs' files, prune the change log.

The minute tick calls ``purge_due(now)``; the first tick of a UTC day claims the day in
``maintenance_runs`` (unique per task and day, so a second scheduler or a repeated tick
claims nothing) and queues ``purge`` on the builds queue, so the deleting happens in a
worker, never inside the tick. A purge still unfinished an hour later (its job lost with
Redis, its worker killed) is queued once more; purging twice is harmless. The policy itself is ``webapp.services.retention``.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from jobs.build import run_dir
from jobs.context import job_context
from loyalty.changefeed import prune_below
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.maintenance import MaintenanceRun
from webapp.models.syncs import Sync
from webapp.services import audit, retention
from webapp.services.dispatch import new_job_id, queue

TASK = "retention"
# A day's purge not finished this long after it was queued is queued again.
LOST_AFTER = timedelta(hours=1)
PURGE_JOB = "jobs.retention.purge"


def purge_due(now: datetime) -> int:
    """Queue today's purge if no tick has yet today: 1 when this call queued it."""
    claim = MaintenanceRun(task=TASK, day=now.date(), claimed_at=now, detail={})
    savepoint = db.session.begin_nested()
    try:
        db.session.add(claim)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        claim_id = _retake_lost(now)
        if claim_id is None:
            db.session.commit()  # end the transaction the failed insert began
            return 0
    else:
        savepoint.commit()
        claim_id = claim.id
    db.session.commit()
    _enqueue(claim_id, now)
    return 1


def _retake_lost(now: datetime) -> int | None:
    """Today's claim, when its purge has not finished LOST_AFTER after it was queued (the
    job was lost with Redis, or its worker died): taken again by exactly one tick, by a
    conditional update of its claim time."""
    claim = db.session.scalar(
        select(MaintenanceRun).where(MaintenanceRun.task == TASK, MaintenanceRun.day == now.date())
    )
    if claim is None or claim.finished_at is not None or claim.claimed_at > now - LOST_AFTER:
        return None
    taken = db.session.execute(
        update(MaintenanceRun)
        .where(MaintenanceRun.id == claim.id, MaintenanceRun.claimed_at == claim.claimed_at)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return claim.id if getattr(taken, "rowcount", 0) == 1 else None


def _enqueue(claim_id: int, now: datetime) -> None:
    queue("builds").enqueue(
        PURGE_JOB,
        claim_id,
        job_id=new_job_id("retention", claim_id),
        job_timeout=3600,
        result_ttl=7 * 24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"retention purge {now:%Y-%m-%d}",
    )


def purge(maintenance_id: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Delete the files the policy no longer keeps, then prune the change log."""
    with job_context():
        now = now or utcnow()
        runs, removed_bytes = purge_files(now)
        pruned = prune_change_log()
        detail = {"runs": runs, "bytes": removed_bytes, "change_log_rows": pruned}
        claim = db.session.get(MaintenanceRun, maintenance_id) if maintenance_id else None
        if claim is not None:
            claim.finished_at, claim.detail = utcnow(), detail
        db.session.commit()
        return detail


def purge_files(now: datetime) -> tuple[int, int]:
    """(runs purged, bytes removed) over every sync, enabled or not."""
    root_app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    count = removed = 0
    for sync in db.session.scalars(select(Sync).order_by(Sync.id)).all():
        for run in retention.runs_to_purge(sync, retention.runs_with_files(sync.id), now):
            size = sum(f.size for f in run.files)
            # Files first, then the mark: a crash between leaves an unmarked run whose
            # folder is already gone, which tomorrow's purge marks (rmtree of nothing).
            shutil.rmtree(run_dir(root_app, run), ignore_errors=True)
            run.files_removed_at = now
            audit.record(
                "run.files_removed",
                obj=run,
                sync_id=sync.id,
                detail={"bytes": size, "files": len(run.files), "policy": _policy(sync)},
                actor="retention",
            )
            db.session.commit()
            count, removed = count + 1, removed + size
    return count, removed


def prune_change_log() -> int:
    """Delete the change log below the lowest position still needed by any sync."""
    needed = retention.needed_log_positions()
    if needed is None:
        return 0
    deleted = prune_below(db.session(), needed)
    if deleted:
        audit.record("change_log.pruned", detail={"rows": deleted}, actor="retention")
    db.session.commit()
    return deleted


def _policy(sync: Sync) -> dict[str, int | None]:
    return {"days": sync.retention_days, "runs": sync.retention_runs}
