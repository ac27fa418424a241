"""The pure point-expiration arithmetic: dates, FIFO survival, and projections per cycle."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from loyalty.services import expiry

pytestmark = pytest.mark.nodb


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert expiry.add_months(day, months) == expected


def test_points_expire_at_the_end_of_the_month_a_year_later() -> None:
    assert expiry.points_expire_on(date(2026, 1, 10)) == date(2027, 1, 31)
    assert expiry.points_expire_on(date(2024, 2, 29)) == date(2025, 2, 28)


def test_fifo_keeps_the_newest_points() -> None:
    buckets = [
        (date(2026, 1, 31), Decimal(100)),
        (date(2026, 3, 31), Decimal(50)),
        (date(2026, 2, 28), Decimal(20)),
    ]
    assert expiry.surviving_buckets(buckets, Decimal(60)) == [
        (date(2026, 2, 28), Decimal(10)),
        (date(2026, 3, 31), Decimal(50)),
    ]
    assert expiry.surviving_buckets(buckets, Decimal(0)) == []
    assert expiry.surviving_buckets(buckets, Decimal(-5)) == []
    assert sum(p for _, p in expiry.surviving_buckets(buckets, Decimal(500))) == 170


def test_due_for_expiry_counts_only_what_the_balance_still_holds() -> None:
    buckets = [(date(2026, 1, 31), Decimal(100)), (date(2026, 3, 31), Decimal(50))]
    assert expiry.due_for_expiry(buckets, Decimal(120), date(2026, 2, 1)) == Decimal(70)
    assert expiry.due_for_expiry(buckets, Decimal(120), date(2026, 1, 31)) == Decimal(0)
    assert expiry.due_for_expiry(buckets, Decimal(40), date(2026, 2, 1)) == Decimal(0)


def test_projection_by_monthly_cycle() -> None:
    assert expiry.cycle_dates(date(2026, 1, 15), 3) == (
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    )
    buckets = [
        (date(2025, 12, 31), Decimal(5)),  # overdue: goes at the next run, cycle 1
        (date(2026, 1, 31), Decimal(10)),
        (date(2026, 3, 31), Decimal(20)),
        (date(2027, 1, 31), Decimal(40)),  # beyond the projected cycles
    ]
    assert expiry.project(buckets, Decimal(75), date(2026, 1, 15)) == {
        1: Decimal(15),
        3: Decimal(20),
    }
