"""member_ranking — Member Ranking Sync.

Documented completely by the product (fields, header, example rows): every member of one
ranking set with the level they hold now. A cumulative snapshot: the product's overview
stresses that it exports *all* rank-specific member details, not only changes.

The set's contents are ``member_rankings`` as they stand (a member holds at most one level
per set); deleted members are left out, as in every cumulative member sync. The product's
example lists SILVER, BRONZE, REGULAR members in that order, which is the order written
here: highest level first (level position, descending), then member id.

The product shows a multi-file name (``..._####.txt``) but not the setting behind it; a
max-records-per-file option (designed here) drives it, as in the other splitting syncs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from exporters import scopes
from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Semantics,
    SyncType,
)
from exporters.naming import MDYHMS, NameRule, name_token
from exporters.options import MAX_RECORDS, max_records_option
from exporters.single_file import export_one_file
from exporters.sql import int_field, text_field
from loyalty.models import Member, MemberRanking, RankingLevel, RankingSet

if TYPE_CHECKING:
    from exporters.base import AnySelect

COLUMNS = (
    Column(
        "RankingSetExternalReference",
        "Ranking Set External Reference",
        "String(20)",
        "same on every row",
    ),
    Column(
        "RankingLevelExternalReference",
        "Ranking Level External Reference",
        "String(20)",
        "the level the member holds now",
    ),
    Column(
        "SBInternalMemberId",
        "Kognitiv Loyalty Internal Member Id",
        "Integer",
        "platform-internal member id",
    ),
    Column(
        "MemberAccountId",
        "Member Account Id",
        "String(60)",
        "primary account id: the most recent active id of the highest-ranked id type",
    ),
    Column("MemberFirstName", "Member First Name", "String(60)"),
    Column("MemberLastName", "Member Last Name", "String(60)"),
)


OPTIONS = (max_records_option("_0001, _0002, ..."),)

NAME = NameRule("RankingSet_{ref}_{stamp}{number}.txt", stamp=MDYHMS, number="_####")

NOTES = (
    "Rows: every member who holds a level in the ranking set when the run starts, one row "
    "each; deleted members are left out. The set is only as fresh as its last rebuild.",
    "Order: highest level first (the level's position in the set, descending), then "
    "internal member id ascending. This is the order of the product's example "
    "(SILVER, BRONZE, REGULAR).",
    "Splitting (designed here): with Max records per file set, file 1 holds the first N "
    "rows, file 2 the next N, and so on; every file is numbered with four digits "
    "(`RankingSet_RS_11232026140509_0001.txt`) and starts with the header, even when one "
    "file is enough. Without it the run writes one file without a number.",
    "Name: `xxxx` is the ranking set's external reference, with any character other than "
    "letters, digits, `.`, `_` and `-` replaced by `_`; the timestamp is the run's start "
    "in the sync's timezone, month first.",
)


def query(ranking_set_id: int) -> AnySelect:
    return (
        select(
            text_field(RankingSet.ext_ref),
            text_field(RankingLevel.ext_ref),
            int_field(Member.id),
            text_field(Member.primary_account_id),
            text_field(Member.first_name),
            text_field(Member.last_name),
        )
        .select_from(MemberRanking)
        .join(RankingSet, RankingSet.id == MemberRanking.ranking_set_id)
        .join(RankingLevel, RankingLevel.id == MemberRanking.level_id)
        .join(Member, Member.id == MemberRanking.member_id)
        .where(MemberRanking.ranking_set_id == ranking_set_id, Member.deleted_at.is_(None))
        .order_by(RankingLevel.position.desc(), RankingLevel.id, Member.id)
    )


def export(ctx: ExportContext) -> ExportResult:
    ref = scopes.reference(scopes.RANKING_SET, ctx.session, ctx.scope)
    max_records = ctx.options.get(MAX_RECORDS)
    return export_one_file(
        ctx,
        query(int(ctx.scope[scopes.RANKING_SET.key])),
        name_for=NAME.namer(ctx, numbered=max_records is not None, ref=name_token(ref)),
        header=[c.header for c in COLUMNS],
        max_records=max_records,
    )


SYNC_TYPE = SyncType(
    key="member_ranking",
    label="Member Ranking Sync",
    description="Every member of one ranking set with the level they hold now.",
    semantics=Semantics.CUMULATIVE,
    scope=scopes.RANKING_SET,
    file_kinds=(
        FileKind(
            key="",
            label="Ranking set file",
            columns=COLUMNS,
            header=True,
            name_pattern="RankingSet_xxxx_MMDDYYYYHHMMSS.txt; split: "
            "RankingSet_xxxx_MMDDYYYYHHMMSS_####.txt (xxxx = ranking set external reference)",
        ),
    ),
    export=export,
    options=OPTIONS,
    doc_status="documented",
    notes=NOTES,
    reference_queries=lambda ctx: [query(int(ctx.scope[scopes.RANKING_SET.key]))],
)
