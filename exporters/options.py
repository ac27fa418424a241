"""Options several sync types share, declared once so they read and behave the same."""

from __future__ import annotations

from exporters.base import Option, OptionKind

MAX_RECORDS = "max_records"
# A billion records per file is more than any receiver takes in one file; the cap keeps
# numbers like 10**40 out of the stored options.
MAX_RECORDS_LIMIT = 1_000_000_000


def max_records_option(
    numbering: str, *, documented: bool = False, always_numbered: bool = False
) -> Option:
    """Max records per file: split into numbered files of at most N records.

    ``numbering`` shows the layout's file numbers (e.g. ``"_01, _02, ..."``).
    """
    empty = (
        "one file (still numbered, as the layout's name always is)"
        if always_numbered
        else "one file without a number"
    )
    return Option(
        MAX_RECORDS,
        "Max records per file",
        OptionKind.INT,
        None,
        help=f"Split into files of at most this many records, numbered {numbering}. Empty: {empty}.",
        minimum=1,
        maximum=MAX_RECORDS_LIMIT,
        documented=documented,
    )
