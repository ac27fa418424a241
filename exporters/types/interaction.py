"""interaction — Interaction Sync.

Documented completely by the product (fields, header, example rows): every interaction
recorded since the last run, with current information (incremental).

The interactions come from the change log (kind ``interaction``, one ``NEW`` row per
interaction) in the window between the last created file's watermark and this run's
snapshot, joined in SQL to the interaction, its type, location, event and member. An
interaction is recorded once and never changed, so each appears in exactly one file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, literal, select

from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Semantics,
    SyncType,
)
from exporters.naming import YMDHMS, NameRule
from exporters.options import MAX_RECORDS, max_records_option
from exporters.single_file import export_one_file, window_reference
from exporters.sql import int_field, text_field, timestamp_field
from loyalty.changefeed import Watermark, current_watermark, window
from loyalty.models import (
    ChangeKind,
    ChangeLog,
    Interaction,
    InteractionEvent,
    InteractionType,
    Location,
    Member,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exporters.base import AnySelect

COLUMNS = (
    Column("InteractionId", "Interaction Id", "Numeric(10)", "internal interaction id"),
    Column("MemberId", "Member Id", "Numeric(10)", "internal member id"),
    Column(
        "MemberAccountId",
        "Member Account Id",
        "String(60)",
        "the member's primary account id (current)",
    ),
    Column("LocationId", "Location Id", "Numeric(10)", "-1 when the interaction has no location"),
    Column(
        "LocationExternalRef",
        "Location External Reference",
        "String(20)",
        "empty when the interaction has no location",
    ),
    Column("InteractionTypeId", "Interaction Type Id", "Numeric(10)"),
    Column("InteractionTypeName", "Interaction Type Name", "String(120)"),
    Column(
        "InteractionTimestamp",
        "Interaction Timestamp",
        "Date/Timestamp(23) YYYY-MM-DD HH:MM:SS.fff",
        "UTC time the interaction was posted, with milliseconds",
    ),
    Column("InteractionTypeExternalRef", "Interaction Type External Reference", "String(20)"),
    Column(
        "EventName",
        "Event Name",
        "String(120)",
        "the event the interaction was assigned to; empty when none",
    ),
    Column(
        "IssueAuditUser", "Issue Audit User", "String(120)", "the user or process that created it"
    ),
)

MAX_RECORDS_OPTION = max_records_option("_1, _2, ...", documented=True)

NAME = NameRule("InteractionSync_{stamp}{number}.txt", stamp=YMDHMS, number="_#")


def query(since: Watermark | None, until: Watermark, dialect: str) -> AnySelect:
    """The interactions logged in the window ``(since, until]``, oldest first."""
    logged = select(ChangeLog.subject_id).where(
        window(since, until, dialect), ChangeLog.kind == ChangeKind.INTERACTION
    )
    return (
        select(
            int_field(Interaction.id),
            int_field(Interaction.member_id),
            text_field(Member.primary_account_id),
            int_field(func.coalesce(Interaction.location_id, literal(-1))),
            text_field(Location.ext_ref),
            int_field(InteractionType.id),
            text_field(InteractionType.name),
            timestamp_field(Interaction.occurred_at, "UTC", millis=True),
            text_field(InteractionType.ext_ref),
            text_field(InteractionEvent.name),
            text_field(Interaction.audit_user),
        )
        .join(Member, Member.id == Interaction.member_id)
        .join(InteractionType, InteractionType.id == Interaction.type_id)
        .outerjoin(Location, Location.id == Interaction.location_id)
        .outerjoin(InteractionEvent, InteractionEvent.id == Interaction.event_id)
        .where(Interaction.id.in_(logged))
        .order_by(Interaction.occurred_at, Interaction.id)
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _query_for(ctx: ExportContext, until: Watermark) -> AnySelect:
    return query(ctx.watermark, until, _dialect(ctx.session))


def export(ctx: ExportContext) -> ExportResult:
    until = current_watermark(ctx.session)
    max_records = ctx.options.get(MAX_RECORDS)
    return export_one_file(
        ctx,
        _query_for(ctx, until),
        name_for=NAME.namer(ctx, numbered=max_records is not None),
        header=[c.header for c in COLUMNS],
        max_records=max_records,
        watermark=until,
    )


SYNC_TYPE = SyncType(
    key="interaction",
    label="Interaction Sync",
    description="Every member interaction recorded since the last run (incremental).",
    semantics=Semantics.INCREMENTAL,
    file_kinds=(
        FileKind(
            key="",
            label="Interaction file",
            columns=COLUMNS,
            header=True,
            name_pattern="InteractionSync_YYYYMMDDHHMMSS.txt; with max records per file: "
            "InteractionSync_YYYYMMDDHHMMSS_{File Number}.txt",
        ),
    ),
    export=export,
    options=(MAX_RECORDS_OPTION,),
    doc_status="documented",
    notes=(
        "Each run writes the interactions recorded since the last created file (the change "
        "log's `interaction` entries after the stored watermark, up to the run's read "
        "snapshot), each exactly once; an interaction never changes after it is recorded. "
        "Member account id and names of type, location and event are current values.",
        "Rows are in the order the interactions happened (Interaction Timestamp), then by "
        "Interaction Id.",
        "First run: every interaction the change log holds. A run with nothing new writes "
        "the header only, so the receiver still gets its daily file.",
        "The product's page shows the 9th header name as `Inte ractionTypeExternalRef`, a "
        "line-wrap artifact; the file writes `InteractionTypeExternalRef`.",
    ),
    reference_queries=window_reference(_query_for),
)
