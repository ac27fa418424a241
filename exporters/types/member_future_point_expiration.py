"""member_future_point_expiration — Member Future Point Expiration Sync.

Partly documented by the product: Member Id, Member Account Id, Future Expiration Process
Date, then one column per upcoming expiration cycle named ``Points<k>Expire<YYYYMMDD>``
after that cycle's expiry day (the capture ends inside the sixth). So the header changes
from run to run, and the values are the batch's pre-calculated projections
(``point_expiration_projections``), never computed here.

Design decisions (each one is in the notes a receiver reads):

- Six cycle columns, as far as the product's page goes and as many as the batch projects.
  The ``*`` the page shows after cycles 3+ is taken for a footnote marker, not part of the
  name (the spec says to assume so).
- The columns are anchored on the run: cycle 1 ends on the last day of the run's month on
  the corporate calendar (the file name's clock too), cycle k k-1 months later. Each
  projected amount goes to the column whose period holds its expiry day, so a column's
  date is always true even for a member whose projection is older than the last month
  change; amounts already past cycle 1's day count in cycle 1 (they go at the next
  expiration run), amounts beyond the sixth cycle are left out.
- The batch stores only cycles with points, so a member with nothing to expire has no
  projection rows; such a member (in the all-members selection) has 0.00 in every
  column and an empty process date, since the database cannot say when they were last
  considered.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Option,
    OptionKind,
    Semantics,
    SyncType,
)
from exporters.naming import YMDHMS, NameRule
from exporters.options import max_records_option
from exporters.single_file import export_one_file
from exporters.sql import decimal_field, int_field, text_field, timestamp_field
from loyalty.models import Member, PointExpirationProjection

if TYPE_CHECKING:
    from exporters.base import AnySelect

CYCLES = 6
ALL_MEMBERS = "all"
EXPIRING_NEXT = "expiring_next"

FIXED_COLUMNS = (
    Column("Member Id", "Member Id", "Numeric(10)", "platform-internal member id"),
    Column("Member Account Id", "Member Account Id", "String(60)", "primary account id"),
    Column(
        "Future Expiration Process Date",
        "Future Expiration Process Date",
        "Date/Time UTC YYYY-MM-DD HH:MM:SS",
        "when the batch last calculated the member's projection; empty when it holds none",
    ),
)


def _cycle_column(number: int) -> Column:
    return Column(
        f"Points{number}ExpireYYYYMMDD",
        f"Points {number} Expire",
        "Decimal (2 places)",
        f"points expiring in cycle {number}; the name carries that cycle's expiry day"
        + ("" if number < CYCLES else " (the product's page is cut inside this name)"),
        documented=number < CYCLES,
    )


COLUMNS = FIXED_COLUMNS + tuple(_cycle_column(k) for k in range(1, CYCLES + 1))

NAME = NameRule(
    "Member_Future_Point_Expiration_Sync_{stamp}{number}.txt",
    stamp=YMDHMS,
    number="_##",
    always_numbered=True,
    corporate_zone=True,
)

OPTIONS = (
    Option(
        "member_selection",
        "Member selection",
        OptionKind.CHOICE,
        default=ALL_MEMBERS,
        choices=(
            (ALL_MEMBERS, "All members"),
            (EXPIRING_NEXT, "Only members with points expiring in the next period"),
        ),
        help="All members, or only those with points due to expire in cycle 1.",
    ),
    max_records_option("_01, _02, ...", always_numbered=True),
)


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def cycle_dates(on: date, cycles: int = CYCLES) -> list[date]:
    """The expiry day closing each monthly cycle from ``on``'s month (cycle 1 first)."""
    months = on.year * 12 + on.month - 1  # months since year 0, for plain arithmetic
    return [end_of_month(date((months + k) // 12, (months + k) % 12 + 1, 1)) for k in range(cycles)]


def header(ends: list[date]) -> list[str]:
    dated = [f"Points{k}Expire{end:%Y%m%d}" for k, end in enumerate(ends, start=1)]
    return [c.header for c in FIXED_COLUMNS] + dated


def corporate_date(ctx: ExportContext) -> date:
    return ctx.run_started_at.astimezone(ZoneInfo(ctx.corporate_timezone)).date()


def _in_cycle(ends: list[date], number: int) -> Any:
    """SUM of the member's projected points whose expiry day falls in cycle ``number``."""
    p = PointExpirationProjection
    upper = p.expires_on <= ends[number - 1]
    condition = upper if number == 1 else (p.expires_on > ends[number - 2]) & upper
    return func.sum(case((condition, p.points), else_=0))


def query(ends: list[date], selection: str) -> AnySelect:
    p = PointExpirationProjection
    sums = [_in_cycle(ends, k) for k in range(1, len(ends) + 1)]
    statement = select(
        int_field(Member.id),
        text_field(Member.primary_account_id),
        timestamp_field(func.max(p.processed_at), "UTC"),
        # coalesce: a member without projection rows (all-members selection) has 0.
        *(decimal_field(func.coalesce(total, 0), 2) for total in sums),
    )
    if selection == EXPIRING_NEXT:
        statement = statement.join(p, p.member_id == Member.id).having(sums[0] > 0)
    else:
        statement = statement.outerjoin(p, p.member_id == Member.id)
    return (
        statement.where(Member.deleted_at.is_(None))
        # By the primary key alone: SQLite then groups in the scan's order and needs no
        # sort for ORDER BY; PostgreSQL accepts the other member column (functionally
        # dependent on the key).
        .group_by(Member.id)
        .order_by(Member.id)
    )


def _query_for(ctx: ExportContext) -> AnySelect:
    selection = str(ctx.options.get("member_selection") or ALL_MEMBERS)
    return query(cycle_dates(corporate_date(ctx)), selection)


def export(ctx: ExportContext) -> ExportResult:
    max_records = ctx.options.get("max_records")
    return export_one_file(
        ctx,
        _query_for(ctx),
        name_for=NAME.namer(ctx, numbered=True),
        header=header(cycle_dates(corporate_date(ctx))),
        max_records=int(max_records) if max_records else None,
    )


SYNC_TYPE = SyncType(
    key="member_future_point_expiration",
    label="Member Future Point Expiration Sync",
    description="Points projected to expire per member in each of the next six monthly "
    "expiration cycles, as the point expiration batch calculated them.",
    semantics=Semantics.CUMULATIVE,
    file_kinds=(
        FileKind(
            key="",
            label="Future point expiration file",
            columns=COLUMNS,
            header=True,
            name_pattern="Member_Future_Point_Expiration_Sync_YYYYMMDDHHMMSS_##.txt "
            "(corporate timezone)",
        ),
    ),
    export=export,
    options=OPTIONS,
    doc_status="partial",
    notes=(
        "The header changes every month: columns 4-9 are named `Points<k>Expire<YYYYMMDD>` "
        "after the last day of cycle k, e.g. `Points1Expire20260131`. No `*` is written "
        "after the names of cycles 3-6 (the product's page shows one, apparently a "
        "footnote marker).",
        "Cycles are monthly and anchored on the run: cycle 1 ends on the last day of the "
        "run's month in the corporate timezone, cycle k on the last day of the month k-1 "
        "months later. Each projected amount is written in the column whose period holds "
        "its expiry day, so the column dates are right even for a projection made before "
        "a month change. Cycle 1 also holds amounts whose expiry day has already passed "
        "(the next expiration run takes them); amounts beyond cycle 6 are left out.",
        "The values are the point expiration batch's projections, not calculated by the "
        "sync: run the sync after the batch. Points are written with two decimals; a "
        "cycle without points is `0.00`. Future Expiration Process Date is when the batch "
        "last projected the member, in UTC; it is empty for a member the batch holds no "
        "projection for (nothing to expire), whose cycles are all `0.00`.",
        "Member selection: all members who are not deleted, or only members with more "
        "than zero points in cycle 1. The product's page also repeats the generic line "
        '"all member changes since the last execution"; the selection setting wins: the '
        "file is a full snapshot on every run. Rows are in internal member id order.",
        "The file number `_##` is always present (`_01` for a single file); with Max "
        "records per file set, the records are split into `_01`, `_02`, ... in order, and "
        "every file starts with the header. The file name's timestamp is the run's start "
        "in the corporate timezone, as the product documents.",
    ),
    reference_queries=lambda ctx: [_query_for(ctx)],
)
