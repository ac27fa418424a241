"""``simulate``: days of everyday program activity, made through the domain services.

Unlike the seed, every change here goes through ``loyalty.services`` exactly as the
web app or an import would make it, one committed transaction per change, so each one
writes its change-log rows and the incremental syncs have work. Changes are spread over
each simulated day (the last ``days`` days up to now), with the nightly batch work first
(descriptor, reward and point expiry; future-expiration projections of the day's members).

A change the rules refuse (e.g. redeeming a reward that expired) is rolled back and counted
as refused, like a user's failed attempt; nothing of it is stored.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.demo.operations import OPERATIONS
from loyalty.demo.simulator import ActivityError, Catalog, Simulator
from loyalty.errors import NotFound, ValidationError
from loyalty.models import ChangeLog

Progress = Callable[[str], None]

__all__ = ["ActivityError", "ActivityResult", "simulate"]


@dataclass
class ActivityResult:
    days: int
    changes: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    change_log_rows: int = 0


def simulate(
    session: Session,
    days: int,
    *,
    seed: int = 1,
    per_day: int | None = None,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> ActivityResult:
    """Simulate ``days`` days of changes ending at ``end`` (default now), ``per_day``
    changes a day (default: about 2% of the members, between 30 and 1,000)."""
    if days < 1:
        raise ActivityError("Simulate at least one day.")
    say = progress or (lambda _message: None)
    end = end or datetime.now(UTC)
    rng = random.Random(f"{seed}:activity")
    catalog = Catalog.load(session)
    simulator = Simulator(session, rng, catalog)
    if simulator.max_member == 0:
        raise ActivityError("The program has no members; run `flask demo seed` first.")
    count = per_day or max(30, min(1000, simulator.max_member // 50))
    result = ActivityResult(days)
    before = session.scalar(select(func.max(ChangeLog.id))) or 0
    kinds = [(name, operation) for name, operation, _ in OPERATIONS]
    weights = [weight for _, _, weight in OPERATIONS]
    for number in range(days, 0, -1):
        start = end - timedelta(days=number)
        day_end = min(end, start + timedelta(days=1))
        batch = start + timedelta(minutes=1)
        for label, n in simulator.nightly(start.date(), batch).items():
            result.changes[label] += n
        times = sorted(
            start
            + timedelta(seconds=120 + rng.random() * ((day_end - start).total_seconds() - 180))
            for _ in range(count)
        )
        done_today = 0
        for at in times:
            name, operation = rng.choices(kinds, weights)[0]
            try:
                outcome = operation(simulator, at)
            except (ValidationError, NotFound) as refused:
                session.rollback()
                result.refused[
                    f"{name}: {next(iter(refused.errors.values())) if isinstance(refused, ValidationError) else refused}"[
                        :80
                    ]
                ] += 1
                continue
            if outcome is None:
                session.rollback()
                continue
            session.commit()
            result.changes[outcome] += 1
            done_today += 1
        say(f"{start.date()}: {done_today} changes")
    result.change_log_rows = (
        session.scalar(select(func.count()).select_from(ChangeLog).where(ChangeLog.id > before))
        or 0
    )
    return result
