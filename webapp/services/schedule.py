"""When a sync runs: its daily execution time as a wall-clock time in its IANA timezone.

The rules (invariant 5 of the design), used by the scheduler tick, the settings page and
``flask sync next-runs`` alike:

- A time that does not exist on a spring-forward day (inside the gap) runs at the first
  valid minute after it, which is the end of the gap (02:30 in New York on the second
  Sunday of March runs at 03:00 EDT).
- A time that exists twice on a fall-back day runs once, at its first occurrence
  (01:30 in New York on the first Sunday of November runs at 01:30 EDT, not again at
  01:30 EST).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Slot:
    """One scheduled run: the instant (UTC) and what the wall clock shows then."""

    at: datetime  # aware, UTC
    local: datetime  # aware, in the sync's zone
    wall_time: time  # the configured execution time
    shifted: bool  # True when the configured time fell in a DST gap
    repeated: bool  # True when the configured time occurs twice that day (runs once)


def parse_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def _ambiguous(naive: datetime, zone: ZoneInfo) -> bool:
    first = naive.replace(tzinfo=zone, fold=0).utcoffset()
    second = naive.replace(tzinfo=zone, fold=1).utcoffset()
    return first != second and _exists(naive, zone)


def slot_on(day: date, wall: time, zone_name: str) -> Slot:
    """The run of ``day`` (a local date) for a sync at ``wall`` in ``zone_name``."""
    zone = ZoneInfo(zone_name)
    naive = datetime.combine(day, wall)
    shifted = False
    if not _exists(naive, zone):
        shifted = True
        probe = naive.replace(second=0, microsecond=0)
        for _ in range(24 * 60):  # gaps are at most a few hours
            probe += timedelta(minutes=1)
            if _exists(probe, zone):
                break
        naive = probe
    repeated = _ambiguous(naive, zone)
    local = naive.replace(tzinfo=zone, fold=0)
    return Slot(
        at=local.astimezone(UTC), local=local, wall_time=wall, shifted=shifted, repeated=repeated
    )


def slots_between(wall: time, zone_name: str, after: datetime, until: datetime) -> list[Slot]:
    """Slots with ``after < slot.at <= until`` (both aware)."""
    zone = ZoneInfo(zone_name)
    day = after.astimezone(zone).date() - timedelta(days=1)
    last_day = until.astimezone(zone).date() + timedelta(days=1)
    found: list[Slot] = []
    while day <= last_day:
        slot = slot_on(day, wall, zone_name)
        if after < slot.at <= until:
            found.append(slot)
        day += timedelta(days=1)
    return found


def next_slots(wall: time, zone_name: str, after: datetime, count: int) -> list[Slot]:
    """The next ``count`` slots strictly after ``after``."""
    return list(_iter_after(wall, zone_name, after, count))


def _iter_after(wall: time, zone_name: str, after: datetime, count: int) -> Iterator[Slot]:
    zone = ZoneInfo(zone_name)
    day = after.astimezone(zone).date() - timedelta(days=1)
    produced = 0
    while produced < count:
        slot = slot_on(day, wall, zone_name)
        if slot.at > after:
            produced += 1
            yield slot
        day += timedelta(days=1)


def dst_notes(wall: time, zone_name: str, year: int) -> list[str]:
    """Plain-language notes for the settings page about this time's DST days in ``year``."""
    notes: list[str] = []
    day = date(year, 1, 1)
    while day.year == year:
        slot = slot_on(day, wall, zone_name)
        when = day.strftime("%a %d %b %Y")
        if slot.shifted:
            notes.append(
                f"On {when} {wall:%H:%M} does not exist in {zone_name} (clocks spring forward); "
                f"the sync runs at {slot.local:%H:%M %Z} instead."
            )
        elif slot.repeated:
            notes.append(
                f"On {when} {wall:%H:%M} happens twice in {zone_name} (clocks fall back); "
                f"the sync runs once, at the first {slot.local:%H:%M %Z}."
            )
        day += timedelta(days=1)
    return notes


def deadline_after(slot: Slot, deadline: time, zone_name: str) -> Slot:
    """The delivery deadline of the run due at ``slot``: the first ``deadline`` wall time
    strictly after it, with the same DST rules as runs (a deadline in a spring-forward gap
    falls at the end of the gap; one that happens twice is the first). A deadline earlier
    on the clock than the execution time is the next day's (runs at 23:00, due by 01:00)."""
    return next_slots(deadline, zone_name, slot.at, 1)[0]
