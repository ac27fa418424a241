"""The daily schedule with a controllable clock: DST days, missed runs, disabled syncs, and
two schedulers (invariants 3 and 5)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from jobs.tick import tick
from webapp.extensions import db
from webapp.models.runs import SyncInstance, Trigger
from webapp.models.syncs import Sync
from webapp.services import syncs

pytestmark = pytest.mark.integration


def scheduled(sync: Sync) -> list[SyncInstance]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SyncInstance)
            .where(SyncInstance.sync_id == sync.id, SyncInstance.trigger == Trigger.SCHEDULED)
            .order_by(SyncInstance.scheduled_for)
        )
    )


def enabled_sync(make_sync: Any, time: str, zone: str, since: datetime) -> Sync:
    sync = make_sync()
    sync.execution_time, sync.timezone = time, zone
    sync.enabled = True
    sync.last_scheduled_for = since
    db.session.commit()
    return sync


def tick_every(start: datetime, end: datetime, minutes: int = 5) -> None:
    now = start
    while now <= end:
        tick(now)
        now += timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("zone", "time", "start", "expected"),
    [
        # New York springs forward on 2026-03-08 at 02:00: 02:30 runs at 03:00 EDT.
        (
            "America/New_York",
            "02:30",
            datetime(2026, 3, 7, 12, tzinfo=UTC),
            [datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 9, 6, 30, tzinfo=UTC)],
        ),
        # New York falls back on 2026-11-01: 01:30 happens twice and runs once (EDT).
        (
            "America/New_York",
            "01:30",
            datetime(2026, 10, 31, 12, tzinfo=UTC),
            [datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 2, 6, 30, tzinfo=UTC)],
        ),
        # London springs forward on 2026-03-29 at 01:00: 01:30 runs at 02:00 BST.
        (
            "Europe/London",
            "01:30",
            datetime(2026, 3, 28, 12, tzinfo=UTC),
            [datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 30, 0, 30, tzinfo=UTC)],
        ),
        # London falls back on 2026-10-25: 01:30 happens twice and runs once (BST).
        (
            "Europe/London",
            "01:30",
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC)],
        ),
    ],
)
def test_dst_days(
    make_sync: Any, zone: str, time: str, start: datetime, expected: list[datetime]
) -> None:
    sync = enabled_sync(make_sync, time, zone, start)
    tick_every(start, start + timedelta(hours=48))
    runs = scheduled(sync)
    assert [r.scheduled_for for r in runs] == expected
    assert all(r.job_id for r in runs)  # each was handed to a worker


def test_missed_days_run_once_and_say_so(make_sync: Any) -> None:
    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    sync = enabled_sync(make_sync, "03:00", "UTC", now - timedelta(days=3, hours=12))
    tick(now)
    (run,) = scheduled(sync)
    assert run.scheduled_for == datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
    assert (
        run.note is not None and "3 earlier scheduled run(s) were missed" in run.note
    )  # 7, 8 and 9 June
    tick(now + timedelta(minutes=1))
    assert len(scheduled(sync)) == 1


def test_disabled_never_runs_and_enabling_does_not_run_past_days(make_sync: Any) -> None:
    now = datetime.now(UTC)
    sync = make_sync()
    sync.execution_time = (now - timedelta(hours=1)).strftime("%H:%M")
    sync.last_scheduled_for = now - timedelta(days=5)
    db.session.commit()
    tick(now)
    assert scheduled(sync) == []
    syncs.set_enabled(sync, True, user=None, actor="test")
    db.session.commit()
    tick(datetime.now(UTC) + timedelta(seconds=1))
    assert scheduled(sync) == []  # today's time had passed before it was enabled
    tick(datetime.now(UTC) + timedelta(days=1))
    assert len(scheduled(sync)) == 1


def test_two_schedulers_make_one_run_per_minute(app: Flask, make_sync: Any) -> None:
    start = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    sync = enabled_sync(make_sync, "03:00", "UTC", start)
    due = datetime(2026, 6, 1, 3, 0, 20, tzinfo=UTC)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def scheduler() -> None:
        try:
            with app.app_context():
                barrier.wait()
                tick(due)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.scheduled_for for r in scheduled(sync)] == [datetime(2026, 6, 1, 3, 0, tzinfo=UTC)]
