"""Point expiration arithmetic, kept pure so it is unit-tested apart from the database.

Program rule (designed here; the product makes it configurable): points expire at the end
of the month ``POINT_LIFETIME_MONTHS`` months after the month they were earned, and
expiration is first-in-first-out. FIFO means every debit (redemption, expiration,
reversal) consumes the oldest points first, so the points a member still holds are the
*newest* earnings adding up to their balance. That makes projections simple: walk the
earnings from newest to oldest until the balance is used up.

Cycles are monthly: cycle 1 ends on the last day of the month of the processing date,
cycle 2 a month later, and so on (the Member Future Point Expiration Sync supports monthly
and yearly cycles; this program runs monthly).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache

POINT_LIFETIME_MONTHS = 12
PROJECTED_CYCLES = 6


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@lru_cache(maxsize=4096)
def points_expire_on(earned_on: date) -> date:
    """When points earned on ``earned_on`` expire (the last day they are still valid)."""
    return end_of_month(add_months(earned_on.replace(day=1), POINT_LIFETIME_MONTHS))


def surviving_buckets(
    buckets: Iterable[tuple[date, Decimal]], balance: Decimal
) -> list[tuple[date, Decimal]]:
    """The part of each earning that the balance still holds, oldest first.

    ``buckets`` are (expires_on, points) of the positive ledger entries; ``balance`` is
    the current balance. Zero or negative balance: nothing survives.
    """
    remaining = balance
    kept: list[tuple[date, Decimal]] = []
    for expires_on, points in sorted(buckets, key=lambda b: b[0], reverse=True):
        if remaining <= 0:
            break
        if points <= 0:
            continue
        take = min(points, remaining)
        kept.append((expires_on, take))
        remaining -= take
    kept.reverse()
    return kept


def due_for_expiry(
    buckets: Iterable[tuple[date, Decimal]], balance: Decimal, as_of: date
) -> Decimal:
    """Points whose expiry day is before ``as_of`` and that the balance still holds."""
    return sum(
        (
            points
            for expires_on, points in surviving_buckets(buckets, balance)
            if expires_on < as_of
        ),
        Decimal(0),
    )


@lru_cache(maxsize=256)
def cycle_dates(processed_on: date, cycles: int = PROJECTED_CYCLES) -> tuple[date, ...]:
    """The expiry day closing each upcoming monthly cycle (cycle 1 first)."""
    return tuple(end_of_month(add_months(processed_on.replace(day=1), k)) for k in range(cycles))


def project(
    buckets: Iterable[tuple[date, Decimal]],
    balance: Decimal,
    processed_on: date,
    cycles: int = PROJECTED_CYCLES,
) -> dict[int, Decimal]:
    """Points expiring per cycle ``{1: ..., 2: ...}`` (cycles with nothing are left out).

    Points already past their expiry day (the batch has not expired them yet) count in
    cycle 1, as they go at the next run.
    """
    ends = cycle_dates(processed_on, cycles)
    result: dict[int, Decimal] = {}
    for expires_on, points in surviving_buckets(buckets, balance):
        for number, end in enumerate(ends, start=1):
            if expires_on <= end:
                result[number] = result.get(number, Decimal(0)) + points
                break
    return result
