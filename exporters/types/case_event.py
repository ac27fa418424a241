"""case_event — Case Sync (the Case Updates File).

An event stream: every case event since the last run, in the order the events happened,
each with its action code (``OPEN``, ``CLSD``, ``REOP``, ``ADDD``, ``RMVD``, ``CCAT``,
``CQUE``, ``TOCH``). A case that changed three times appears three times, unlike the
other syncs, which send the latest state of each changed entity once.

The product's page was captured only up to its third field (CaseId, Timestamp, User);
the rest of the layout is designed here in the same style (CamelCase names, pipe,
UTC timestamps with milliseconds). Each row says what the event did: the category and
queue an event *sets* (opening sets the first ones, ``CCAT``/``CQUE`` the new ones) and
the descriptor an ``ADDD``/``RMVD`` adds or removes. Those values are the event's own,
kept on the event row, so a later change never rewrites an earlier row of the stream.

Events come from the change log (kind ``case``, subject2 = the case event) in the window
between the last created file's watermark and this run's snapshot, ordered by when they
happened (``occurred_at``), then by their place in the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import aliased

from exporters.base import Column, ExportContext, ExportResult, FileKind, Semantics, SyncType
from exporters.naming import YMD, YMDHMS, NameRule
from exporters.single_file import export_one_file, window_reference
from exporters.sql import int_field, text_field, timestamp_field
from loyalty.changefeed import Watermark, current_watermark, window
from loyalty.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CaseQueue,
    ChangeKind,
    ChangeLog,
    Descriptor,
    Member,
)
from loyalty.models.enums import CaseAction

if TYPE_CHECKING:
    from exporters.base import AnySelect

COLUMNS = (
    Column("CaseId", "CaseId", "Numeric(10)", "the case's id in the platform"),
    Column(
        "Timestamp",
        "Timestamp",
        "yyyy-MM-dd HH:mm:ss.fff",
        "time of the event, UTC, with milliseconds",
    ),
    Column(
        "User",
        "User",
        "String(120)",
        "the user handling the case when the event happened (for CLSD, who closed it)",
    ),
    Column(
        "ActionCode",
        "Action Code",
        "String(4)",
        "OPEN, CLSD, REOP, ADDD, RMVD, CCAT, CQUE or TOCH",
        documented=False,
    ),
    Column(
        "CaseEventId",
        "Case Event Id",
        "Numeric(20)",
        "the event's own id: unique per row, so a receiver can spot a row it already has",
        documented=False,
    ),
    Column(
        "MemberId",
        "Member Id",
        "Numeric(10)",
        "internal id of the member the case is about; empty when none",
        documented=False,
    ),
    Column(
        "MemberAccountId",
        "Member Account Id",
        "String(60)",
        "the member's primary account id (current); empty when none",
        documented=False,
    ),
    Column("CaseSubject", "Case Subject", "String(120)", "current subject", documented=False),
    Column(
        "CategoryExtRef",
        "Case Category External Reference",
        "String(20)",
        "OPEN: the first category; CCAT: the new category; empty on other actions",
        documented=False,
    ),
    Column(
        "CategoryName",
        "Case Category Name",
        "String(60)",
        "as CategoryExtRef",
        documented=False,
    ),
    Column(
        "QueueExtRef",
        "Case Queue External Reference",
        "String(20)",
        "OPEN: the first queue; CQUE: the new queue; empty on other actions",
        documented=False,
    ),
    Column("QueueName", "Case Queue Name", "String(60)", "as QueueExtRef", documented=False),
    Column(
        "DescriptorExtRef",
        "Descriptor External Reference",
        "String(20)",
        "ADDD: the descriptor added; RMVD: the descriptor removed; empty on other actions",
        documented=False,
    ),
    Column(
        "DescriptorName", "Descriptor Name", "String(60)", "as DescriptorExtRef", documented=False
    ),
    Column(
        "Note",
        "Note",
        "String(500)",
        "the note written with the event; empty when none",
        documented=False,
    ),
)

# Date only, as documented; a second run on the same day adds the time (docs/file-format.md).
NAME = NameRule("CaseUpdatesSync_{stamp}.txt", stamp=YMD, repeat_stamp=YMDHMS)


def query(since: Watermark | None, until: Watermark, dialect: str) -> AnySelect:
    """The case events logged in ``(since, until]``, in the order they happened."""
    category = aliased(CaseCategory)
    queue = aliased(CaseQueue)
    return (
        select(
            int_field(Case.id),
            timestamp_field(CaseEvent.occurred_at, "UTC", millis=True),
            text_field(CaseEvent.user_name),
            text_field(CaseEvent.action),
            int_field(CaseEvent.id),
            int_field(Case.member_id),
            text_field(Member.primary_account_id),
            text_field(Case.subject),
            text_field(category.ext_ref),
            text_field(category.name),
            text_field(queue.ext_ref),
            text_field(queue.name),
            text_field(Descriptor.ext_ref),
            text_field(Descriptor.name),
            text_field(CaseEvent.note),
        )
        .select_from(ChangeLog)
        .join(CaseEvent, CaseEvent.id == ChangeLog.subject2_id)
        .join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(Member, Member.id == Case.member_id)
        .outerjoin(category, category.id == CaseEvent.category_id)
        .outerjoin(queue, queue.id == CaseEvent.queue_id)
        .outerjoin(Descriptor, Descriptor.id == CaseEvent.descriptor_id)
        .where(
            window(since, until, dialect),
            ChangeLog.kind == ChangeKind.CASE,
            ChangeLog.code.in_([action.value for action in CaseAction]),
        )
        .order_by(ChangeLog.occurred_at, ChangeLog.id)
    )


def _query_for(ctx: ExportContext, until: Watermark) -> AnySelect:
    return query(ctx.watermark, until, ctx.session.get_bind().dialect.name)


def export(ctx: ExportContext) -> ExportResult:
    until = current_watermark(ctx.session)
    return export_one_file(
        ctx,
        _query_for(ctx, until),
        name_for=NAME.namer(ctx, numbered=False),
        header=[c.header for c in COLUMNS],
        watermark=until,
    )


SYNC_TYPE = SyncType(
    key="case_event",
    label="Case Sync",
    description="Every case event since the last run, in the order the events happened, "
    "with its action code (an event stream: the Case Updates File).",
    semantics=Semantics.EVENT_STREAM,
    file_kinds=(
        FileKind(
            key="",
            label="Case Updates File",
            columns=COLUMNS,
            header=True,
            name_pattern="CaseUpdatesSync_yyyyMMdd.txt (a second run on the same day: "
            "CaseUpdatesSync_yyyyMMddHHmmss.txt)",
        ),
    ),
    export=export,
    doc_status="partial",
    notes=(
        "An event stream: every case event since the last created file is one row, in the "
        "order the events happened (Timestamp, then the order they were recorded). A case "
        "opened, moved to another queue and closed in one day gives three rows. First run: "
        "every case event the change log holds.",
        "Action codes: `OPEN` case opened, `CLSD` closed, `REOP` reopened, `ADDD` descriptor "
        "added, `RMVD` descriptor removed, `CCAT` category changed, `CQUE` queue changed, "
        "`TOCH` touched (someone worked on the case; they now handle it).",
        "Designed here (the product's page stops after `User`): fields 4-15. Each row carries "
        "what its event did, kept on the event when it happened: the category and queue an "
        "`OPEN` starts with, the new category of a `CCAT`, the new queue of a `CQUE`, the "
        "descriptor of an `ADDD` or `RMVD` (each by its external reference and current "
        "name); these fields are empty on other actions. Member id, account id and subject "
        "are the case's current values.",
        "Header: the product's page does not say; the field names it gives are header-style "
        "names (`CaseId`, like the Interaction and Survey headers), so the file starts with a "
        "header line. A run with no events writes the header only.",
        "File name: date only (`yyyyMMdd`), as documented; a second run on the same day "
        "adds the time (`CaseUpdatesSync_yyyyMMddHHmmss.txt`), so no earlier file is replaced.",
    ),
    reference_queries=window_reference(_query_for),
)
