"""The Runs page's query: every run of every sync, newest first, filtered and keyset-paged
(issue 14, item 1: "what failed last night?").

Pages are keyset-paged on the run id (``before=<id>``: the next page starts below the
last id shown), never OFFSET, so page 500 costs what page 1 costs. Each filter has an
index that serves it with that order: the stored outcome ``(outcome, id)``, the sync
``(sync_id, id)``, the trigger ``(trigger, id)``, a destination (an EXISTS on
``transfers (destination_id, instance_id)``) and the date range (``created_at``). A page
is three queries whatever its size: the runs, their transfers, their requesters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import contains_eager, selectinload

from loyalty.db import utcnow
from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.models.runs import RunOutcome, SyncInstance, Transfer, Trigger
from webapp.models.syncs import Sync
from webapp.models.users import User
from webapp.services import run_status
from webapp.services.permissions import SYNC_VIEW, require

PAGE_SIZE = 25  # a page renders in well under the 50 ms target with 100,000 runs
# The filter value "failures": failed or partly failed (the header count links to it).
FAILURES = "failures"
FAILURE_OUTCOMES = (RunOutcome.FAILED, RunOutcome.PARTLY_FAILED)


@dataclass(frozen=True)
class RunFilter:
    status: str | None = None  # a RunOutcome value or FAILURES
    sync_id: int | None = None
    destination_id: int | None = None
    trigger: Trigger | None = None
    day_from: date | None = None
    day_to: date | None = None
    before: int | None = None

    def query_args(self, **changes: Any) -> dict[str, str]:
        """The filter as query-string arguments (for links that keep it)."""
        values = {
            "status": self.status,
            "sync": self.sync_id,
            "destination": self.destination_id,
            "trigger": self.trigger.value if self.trigger else None,
            "from": self.day_from.isoformat() if self.day_from else None,
            "to": self.day_to.isoformat() if self.day_to else None,
            "before": self.before,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass
class RunPage:
    runs: list[SyncInstance]
    next_before: int | None  # the ``before`` of the next (older) page, if any
    filter: RunFilter
    errors: dict[str, str] = field(default_factory=dict)


def parse_filter(args: Any) -> RunFilter:
    """The filter from a request's query arguments; ValidationError names a bad one."""
    errors: dict[str, str] = {}

    def whole(name: str) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
            errors[name] = f"{name} must be a whole number, not {raw[:40]!r}."
            return None
        return int(raw)

    def day(name: str) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"{name} must be a date like 2026-12-03, not {raw[:40]!r}."
            return None

    status = (args.get("status") or "").strip() or None
    if status is not None and status != FAILURES and status not in set(RunOutcome):
        errors["status"] = f"Unknown status {status[:40]!r}."
        status = None
    trigger_raw = (args.get("trigger") or "").strip()
    trigger = None
    if trigger_raw:
        if trigger_raw in set(Trigger):
            trigger = Trigger(trigger_raw)
        else:
            errors["trigger"] = f"Unknown trigger {trigger_raw[:40]!r}."
    result = RunFilter(
        status=status,
        sync_id=whole("sync"),
        destination_id=whole("destination"),
        trigger=trigger,
        day_from=day("from"),
        day_to=day("to"),
        before=whole("before"),
    )
    if result.day_from and result.day_to and result.day_from > result.day_to:
        errors["to"] = "The end date is before the start date."
    if errors:
        raise ValidationError(errors)
    return result


def _start_of(day: date) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(flt: RunFilter, query: Any) -> Any:
    """``query`` with every filter but the status applied."""
    if flt.sync_id is not None:
        query = query.where(SyncInstance.sync_id == flt.sync_id)
    if flt.destination_id is not None:
        query = query.where(
            exists().where(
                Transfer.destination_id == flt.destination_id,
                Transfer.instance_id == SyncInstance.id,
            )
        )
    if flt.trigger is not None:
        query = query.where(SyncInstance.trigger == flt.trigger)
    if flt.day_from is not None:
        query = query.where(SyncInstance.created_at >= _start_of(flt.day_from))
    if flt.day_to is not None:
        query = query.where(SyncInstance.created_at < _start_of(flt.day_to + timedelta(days=1)))
    if flt.before is not None:
        query = query.where(SyncInstance.id < flt.before)
    return query


def _page_ids(flt: RunFilter, limit: int) -> list[int]:
    """The ids of one page, newest first. Several outcomes ("failures") are read one
    outcome at a time, each a walk down its ``(outcome, id)`` index, and merged: with
    ``outcome IN (a, b)`` the databases sort every matching run before the LIMIT."""
    if flt.status == FAILURES:
        outcomes: tuple[RunOutcome, ...] = FAILURE_OUTCOMES
    elif flt.status:
        outcomes = (RunOutcome(flt.status),)
    else:
        outcomes = ()
    base = _filtered(flt, select(SyncInstance.id))
    if not outcomes:
        return list(db.session.scalars(base.order_by(SyncInstance.id.desc()).limit(limit)))
    ids: list[int] = []
    for outcome in outcomes:
        ids += db.session.scalars(
            base.where(SyncInstance.outcome == outcome)
            .order_by(SyncInstance.id.desc())
            .limit(limit)
        )
    return sorted(ids, reverse=True)[:limit]


def search(flt: RunFilter, user: User | None, page_size: int = PAGE_SIZE) -> RunPage:
    """One page of runs (with their sync, transfers and requester loaded)."""
    if user is not None:
        require(user, SYNC_VIEW)
    ids = _page_ids(flt, page_size + 1)
    more = len(ids) > page_size
    ids = ids[:page_size]
    rows: list[SyncInstance] = []
    if ids:
        rows = list(
            db.session.scalars(
                select(SyncInstance)
                .join(Sync, SyncInstance.sync_id == Sync.id)
                .options(
                    contains_eager(SyncInstance.sync),
                    selectinload(SyncInstance.requested_by),
                )
                .where(SyncInstance.id.in_(ids))
                .order_by(SyncInstance.id.desc())
            ).unique()
        )
    run_status.load_transfers(db.session, rows)
    return RunPage(runs=rows, next_before=rows[-1].id if more and rows else None, filter=flt)


def failures_since(since: datetime) -> int:
    """Runs that failed or partly failed since ``since`` (the header's count)."""
    # Runs are numbered in creation order: find the first run of the period on the
    # created_at index, then count each failure outcome from there on its (outcome, id)
    # index; two short range scans, whatever the history holds.
    first = db.session.scalar(
        select(SyncInstance.id)
        .where(SyncInstance.created_at >= since)
        .order_by(SyncInstance.created_at)
        .limit(1)
    )
    if first is None:
        return 0
    return sum(
        int(
            db.session.scalar(
                select(func.count(SyncInstance.id)).where(
                    SyncInstance.outcome == outcome,
                    SyncInstance.id >= first,
                    SyncInstance.created_at >= since,  # exact, on the few rows in range
                )
            )
            or 0
        )
        for outcome in FAILURE_OUTCOMES
    )


def failures_since_yesterday() -> int:
    return failures_since(utcnow() - timedelta(hours=24))
