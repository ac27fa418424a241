"""member_ranking_extended — Member Ranking Extended Sync.

The product documents all 15 fields, the file name and that the example starts with a
header, but the stored copy of its page stops after the 7th header name: names 8-15 are
designed here by the rule the first seven follow (the field's documented name in
CamelCase, without the legacy "SB"), and so is the example data it never showed.

Incremental by member, current values: a member of the sync's ranking set is written when,
since the last created file, they entered the set, their level changed, or their
assignment to the configured descriptor changed (assigned, expiry changed, removed or
expired). Which descriptor is "configured" the product does not say; here it is a
per-sync option (a descriptor's external reference) that defaults to the descriptor the
ranking set itself names (``ranking_sets.descriptor_id``).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, literal, or_, select

from exporters import scopes
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
from exporters.options import MAX_RECORDS, max_records_option
from exporters.single_file import export_one_file
from exporters.sql import date_field, int_field, text_field, timestamp_field
from loyalty.changefeed import Watermark, current_watermark, window
from loyalty.models import (
    ChangeKind,
    ChangeLog,
    Descriptor,
    DescriptorAssignment,
    Member,
    MemberAddress,
    MemberRanking,
    RankingLevel,
    RankingSet,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exporters.base import AnySelect

COLUMNS = (
    Column("InternalMemberId", "SB Internal Member Id", "Integer", "platform-internal member id"),
    Column(
        "MemberAccountId",
        "Member Account Id",
        "String(60)",
        "primary account id: the most recent active id of the highest-ranked id type",
    ),
    Column("MemberFirstName", "Member First Name", "String(60)"),
    Column("MemberLastName", "Member Last Name", "String(60)"),
    Column(
        "MemberAddress",
        "Member Address",
        "String(120)",
        "line 1 of the member's primary address",
    ),
    Column("MemberCity", "Member City", "String(120)", "of the primary address"),
    Column("MemberRegionAbbreviation", "Member Region Abbreviation", "String(8)"),
    Column(
        "MemberPostalCode",
        "Member Postal Code",
        "String(14)",
        "header name designed here",
        documented=False,
    ),
    Column(
        "MemberCountryAbbreviation",
        "Member Country Abbreviation",
        "String(2)",
        "ISO 3166-1 alpha-2; header name designed here",
        documented=False,
    ),
    Column(
        "MemberEmail",
        "Member Email",
        "String(256)",
        "primary email; header name designed here",
        documented=False,
    ),
    Column(
        "MemberMobilePhone",
        "Member Mobile Phone",
        "String(30)",
        "as displayed in the app (platform phone mode); header name designed here",
        documented=False,
    ),
    Column(
        "RankingSet",
        "Ranking Set",
        "String(20)",
        "ranking set external reference; header name designed here",
        documented=False,
    ),
    Column(
        "RankingSetLevel",
        "Ranking Set Level",
        "String(20)",
        "external reference of the level the member holds now; header name designed here",
        documented=False,
    ),
    Column(
        "RankingSetLevelJoinDate",
        "Ranking Set Level Join Date",
        "String YYYY-MM-DD HH:MM:SS",
        "when the member entered the level they hold now, in the database timezone; "
        "header name designed here",
        documented=False,
    ),
    Column(
        "RankingMemberDescriptorExpirationDate",
        "Ranking Member Descriptor Expiration Date",
        "String YYYY-MM-DD",
        "last day of the member's assignment to the configured descriptor; empty when not "
        "assigned or when the assignment does not expire; header name designed here",
        documented=False,
    ),
)

DESCRIPTOR = "descriptor_ext_ref"

OPTIONS = (
    Option(
        DESCRIPTOR,
        "Configured descriptor",
        OptionKind.TEXT,
        default="",
        maximum=20,
        help="External reference of the member descriptor whose assignments this sync "
        "follows (field 15 and the descriptor trigger). Empty: the descriptor the ranking "
        "set names; when it names none, field 15 is empty and only level changes count.",
        documented=False,
    ),
    max_records_option("_1, _2, ...", always_numbered=True),
)

NAME = NameRule(
    "SBMemberRankingSync_{stamp}{number}.txt", stamp=YMDHMS, number="_#", always_numbered=True
)

NOTES = (
    "Rows: each member of the sync's ranking set (as the set stands when the run starts) "
    "who, since the last created file, entered the set, moved to another level, or whose "
    "assignment to the configured descriptor was made, changed its expiry, was removed or "
    "expired (change log kinds `ranking` and `descriptor`). One row per member however "
    "many such changes happened, with the member's current values. Members who left the "
    "set, and deleted members, are not written: the layout has no way to say so (the "
    "Member Ranking Sync's next snapshot no longer lists them).",
    "Configured descriptor (designed here): the option Configured descriptor names a "
    "descriptor by its external reference; empty, the ranking set's own descriptor is "
    "used. A run fails with a clear message when the named descriptor does not exist. "
    "Field 15 is the last day of the member's assignment to it when the assignment holds "
    "on the run's date (in the sync's timezone), as in the Member Descriptor Sync; empty "
    "when the member does not hold it, or holds it without an expiry.",
    "First run: a new sync's first file holds every current member of the set (the "
    "initial load), not only those the change log mentions; later files hold the members "
    "changed since the previous created file. Nothing is lost or repeated between "
    "consecutive files, also when changes commit while a file is being built.",
    "Order: by internal member id. Address fields come from the member's primary address "
    "(line 1 only: the layout has one address field of 120 characters). Field 14 is in the "
    "database timezone.",
    "Header names 8-15 are designed here: the captured page stops after the 7th name. They "
    "follow the rule of the first seven: the documented field name in CamelCase, without "
    "the legacy `SB`.",
    "Name: `SBMemberRankingSync_YYYYMMDDHHMMSS_#.txt`; the file number is always present "
    "(`_1` for a single file). With Max records per file set (designed here), file 1 holds "
    "the first N rows, file 2 the next N, each with the header. A run without changed "
    "members writes `_1` with the header only.",
)


def configured_descriptor(session: Session, ranking_set_id: int, ext_ref: str) -> int | None:
    """The descriptor whose assignments this sync follows (None: no descriptor)."""
    if ext_ref:
        found: int | None = session.scalar(
            select(Descriptor.id).where(Descriptor.ext_ref == ext_ref)
        )
        if found is None:
            raise LookupError(
                f"The member descriptor {ext_ref!r} configured for this sync does not exist."
            )
        return found
    own: int | None = session.scalar(
        select(RankingSet.descriptor_id).where(RankingSet.id == ranking_set_id)
    )
    return own


def _changed_members(
    since: Watermark, until: Watermark, dialect: str, ranking_set_id: int, descriptor_id: int | None
) -> AnySelect:
    """Ids of the members with a ranking or configured-descriptor change in the window."""
    ranking = and_(ChangeLog.kind == ChangeKind.RANKING, ChangeLog.subject_id == ranking_set_id)
    trigger: Any = ranking
    if descriptor_id is not None:
        trigger = or_(
            ranking,
            and_(ChangeLog.kind == ChangeKind.DESCRIPTOR, ChangeLog.subject_id == descriptor_id),
        )
    return select(ChangeLog.member_id).where(
        window(since, until, dialect), trigger, ChangeLog.member_id.is_not(None)
    )


def query(
    ranking_set_id: int,
    descriptor_id: int | None,
    on: date,
    zone: str,
    changed: AnySelect | None,
) -> AnySelect:
    """The file's rows; ``changed`` (member ids) limits them, None: the whole set."""
    expiry: Any = literal("", String)
    if descriptor_id is not None:
        expiry = date_field(DescriptorAssignment.expires_on)
    statement = (
        select(
            int_field(Member.id),
            text_field(Member.primary_account_id),
            text_field(Member.first_name),
            text_field(Member.last_name),
            text_field(MemberAddress.line1),
            text_field(MemberAddress.city),
            text_field(MemberAddress.region),
            text_field(MemberAddress.postal_code),
            text_field(MemberAddress.country),
            text_field(Member.primary_email),
            text_field(Member.mobile_phone),
            text_field(RankingSet.ext_ref),
            text_field(RankingLevel.ext_ref),
            timestamp_field(MemberRanking.level_joined_at, zone),
            expiry,
        )
        .select_from(MemberRanking)
        .join(Member, Member.id == MemberRanking.member_id)
        .join(RankingSet, RankingSet.id == MemberRanking.ranking_set_id)
        .join(RankingLevel, RankingLevel.id == MemberRanking.level_id)
        .outerjoin(
            MemberAddress,
            and_(MemberAddress.member_id == Member.id, MemberAddress.is_primary.is_(True)),
        )
        .where(MemberRanking.ranking_set_id == ranking_set_id, Member.deleted_at.is_(None))
    )
    if descriptor_id is not None:
        # The assignment as the Member Descriptor Sync sees it: held on the run's date.
        statement = statement.outerjoin(
            DescriptorAssignment,
            and_(
                DescriptorAssignment.member_id == Member.id,
                DescriptorAssignment.descriptor_id == descriptor_id,
                or_(
                    DescriptorAssignment.expires_on.is_(None),
                    DescriptorAssignment.expires_on >= on,
                ),
            ),
        )
    if changed is not None:
        statement = statement.where(Member.id.in_(changed.scalar_subquery()))
    return statement.order_by(Member.id)


def _run_query(ctx: ExportContext, until: Watermark) -> AnySelect:
    ranking_set_id = int(ctx.scope[scopes.RANKING_SET.key])
    descriptor_id = configured_descriptor(
        ctx.session, ranking_set_id, str(ctx.options.get(DESCRIPTOR) or "")
    )
    changed = None
    if ctx.watermark is not None:
        dialect = ctx.session.get_bind().dialect.name
        changed = _changed_members(ctx.watermark, until, dialect, ranking_set_id, descriptor_id)
    return query(ranking_set_id, descriptor_id, ctx.local_date, ctx.database_timezone, changed)


def export(ctx: ExportContext) -> ExportResult:
    scopes.reference(scopes.RANKING_SET, ctx.session, ctx.scope)  # fails clearly if gone
    until = current_watermark(ctx.session)
    max_records = ctx.options.get(MAX_RECORDS)
    return export_one_file(
        ctx,
        _run_query(ctx, until),
        name_for=NAME.namer(ctx, numbered=True),
        header=[c.header for c in COLUMNS],
        max_records=max_records,
        watermark=until,
    )


SYNC_TYPE = SyncType(
    key="member_ranking_extended",
    label="Member Ranking Extended Sync",
    description="Members of one ranking set who entered it, changed level or whose "
    "configured descriptor assignment changed since the last file, with current address, "
    "contact, level and descriptor expiry.",
    semantics=Semantics.INCREMENTAL,
    scope=scopes.RANKING_SET,
    file_kinds=(
        FileKind(
            key="",
            label="Member ranking file",
            columns=COLUMNS,
            header=True,
            name_pattern="SBMemberRankingSync_YYYYMMDDHHMMSS_#.txt",
        ),
    ),
    export=export,
    options=OPTIONS,
    doc_status="partial",
    notes=NOTES,
    reference_queries=lambda ctx: [_run_query(ctx, current_watermark(ctx.session))],
)
