"""DST behaviour of the daily schedule (invariant 5), with real zone data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from webapp.services.schedule import dst_notes, next_slots, slot_on, slots_between

pytestmark = pytest.mark.nodb

NY = "America/New_York"
LONDON = "Europe/London"


def test_ordinary_day() -> None:
    slot = slot_on(date(2026, 6, 1), time(3, 30), NY)
    assert slot.at == datetime(2026, 6, 1, 7, 30, tzinfo=UTC)
    assert not slot.shifted and not slot.repeated


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected_utc"),
    [
        # New York springs forward at 02:00 -> 03:00 EDT on 2026-03-08.
        (NY, date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        (NY, date(2026, 3, 8), time(2, 0), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        # London springs forward at 01:00 -> 02:00 BST on 2026-03-29.
        (LONDON, date(2026, 3, 29), time(1, 15), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ],
)
def test_spring_forward_gap_runs_at_first_valid_minute(
    zone: str, day: date, wall: time, expected_utc: datetime
) -> None:
    slot = slot_on(day, wall, zone)
    assert slot.shifted
    assert slot.at == expected_utc


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected_utc"),
    [
        # New York falls back 02:00 EDT -> 01:00 EST on 2026-11-01: 01:30 happens twice.
        (NY, date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        # London falls back 02:00 BST -> 01:00 GMT on 2026-10-25.
        (LONDON, date(2026, 10, 25), time(1, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_fall_back_repeat_runs_once_at_first_occurrence(
    zone: str, day: date, wall: time, expected_utc: datetime
) -> None:
    slot = slot_on(day, wall, zone)
    assert slot.repeated
    assert slot.at == expected_utc
    whole_day = slots_between(
        wall, zone, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    )
    assert sum(1 for s in whole_day if s.local.date() == day) == 1


def test_one_slot_per_local_day_all_year() -> None:
    for zone in (NY, LONDON, "Australia/Lord_Howe", "UTC"):
        for wall in (time(0, 0), time(1, 30), time(2, 30), time(23, 59)):
            slots = slots_between(
                wall,
                zone,
                datetime(2025, 12, 31, 12, tzinfo=UTC),
                datetime(2026, 12, 31, 12, tzinfo=UTC),
            )
            days = [s.local.date() for s in slots]
            assert len(days) == len(set(days)) == 365, (zone, wall)


def test_next_slots() -> None:
    slots = next_slots(time(3, 0), NY, datetime(2026, 3, 7, 9, 0, tzinfo=UTC), 3)
    assert [s.at for s in slots] == [
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 EDT, the day clocks change
        datetime(2026, 3, 9, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 10, 7, 0, tzinfo=UTC),
    ]


def test_dst_notes() -> None:
    notes = dst_notes(time(2, 30), NY, 2026)
    assert len(notes) == 1 and "does not exist" in notes[0] and "03:00" in notes[0]
    fall = dst_notes(time(1, 30), NY, 2026)
    assert len(fall) == 1 and "happens twice" in fall[0]
    assert dst_notes(time(12, 0), NY, 2026) == []
