"""File names: the documented patterns, the run's local time, numbering, and repeats.

- Timestamps are the run's start in the sync's timezone (the Future Point Expiration
  layout documents the corporate timezone instead; a rule can say so).
- Numbers: ``_#`` prints 1, 2, …; ``_##`` prints 01, 02, …; ``_####`` prints 0001, ….
- Repeats. A second run must never silently replace an earlier run's file at a receiver.
  Date-only names (``TransactionSync_YYYYMMDD.txt``, ``CaseUpdatesSync_yyyyMMdd.txt``,
  ``SB_MemberProductPurchaseRank_YYYYMMDD.txt``) repeat when a sync runs twice in a day,
  so a repeat run uses the same name with the time added (``YYYYMMDDHHMMSS``), the
  form the Transaction layout itself documents for its "filename time" option. A name
  whose timestamp is already taken by an earlier run (two runs in one second) moves its
  time forward one second at a time until it is free.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from exporters.base import ExportContext

YMDHMS = "%Y%m%d%H%M%S"
MDYHMS = "%m%d%Y%H%M%S"
YMD = "%Y%m%d"

_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def name_token(value: str) -> str:
    """An external reference made safe for a file name (``/``, spaces, ``:`` become ``_``)."""
    return _UNSAFE_IN_NAME.sub("_", value) or "_"


NUMBER_FORMATS = {"": "", "_#": "_{:d}", "_##": "_{:02d}", "_####": "_{:04d}"}


@dataclass(frozen=True)
class NameRule:
    """How one file kind is named.

    ``template`` uses ``{stamp}`` and ``{number}`` plus any tokens the exporter passes
    (``{ref}``, ``{db}``, ``{sync}``), e.g. ``"RankingSet_{ref}_{stamp}{number}.txt"``.
    """

    template: str
    stamp: str = YMDHMS
    number: str = ""  # "", "_#", "_##" or "_####"
    always_numbered: bool = False
    # For date-only stamps: the stamp a repeat run on the same day uses.
    repeat_stamp: str | None = None
    corporate_zone: bool = False

    def __post_init__(self) -> None:
        if self.number not in NUMBER_FORMATS:
            raise ValueError(f"unknown number format {self.number!r}")

    def namer(self, ctx: ExportContext, numbered: bool, **tokens: str) -> Callable[[int], str]:
        """``name_for(file_number)`` for one run; resolves repeats against earlier runs."""
        zone = ZoneInfo(ctx.corporate_timezone if self.corporate_zone else ctx.timezone)
        local = ctx.run_started_at.astimezone(zone)
        numbered = numbered or self.always_numbered
        number_format = NUMBER_FORMATS[self.number] if numbered else ""

        def build(stamp: str, number: int) -> str:
            return self.template.format(
                stamp=stamp, number=number_format.format(number) if number_format else "", **tokens
            )

        stamp = local.strftime(self.stamp)
        if ctx.name_taken(build(stamp, 1)) and self.repeat_stamp is not None:
            stamp = local.strftime(self.repeat_stamp)
        step_format = self.repeat_stamp or self.stamp
        moved = local
        for _ in range(3600):
            if not ctx.name_taken(build(stamp, 1)):
                break
            moved += timedelta(seconds=1)
            stamp = moved.strftime(step_format)
        else:  # pragma: no cover - an hour of runs in one second is not a real history
            raise RuntimeError("no free file name within an hour of the run's start")
        final_stamp = stamp
        return lambda number: build(final_stamp, number)
