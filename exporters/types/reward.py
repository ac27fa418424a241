"""reward — Reward Sync.

Incremental and trigger-based: one record per reward event since the last run (issued,
redeemed, cancelled, redemption reversed, expired, expiration date changed), each with
the event's own time and data plus the reward's current information. Variable-width: the
first field is the record type and each type has its own columns. No header.

The product's page was captured only up to field 11 of record type 1 (Issued); the rest
of type 1 and types 2-7 are designed here in the same style. Every event record starts
with the same nine fields (record type, reward id, member id, barcode, reward type
external reference and name, retail and point value, the event's timestamp), so a
receiver can read the common part of any record the same way.

Events come from the change log (kind ``reward``; code = record type; subject2 = the
``reward_events`` row) in the window between the last created file's watermark and this
run's snapshot. A reward redeemed, reversed and redeemed again in one day gives three
records, each with its own time. The records are built as text in SQL (one string per
record, the fields joined with ``|``), so the per-record-type SELECTs can be one
UNION ALL ordered by event time, and Python only writes lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import String, case, func, literal, select, union_all

from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Option,
    OptionKind,
    RecordType,
    Semantics,
    SyncType,
)
from exporters.naming import YMDHMS, NameRule
from exporters.single_file import export_one_file, window_reference
from exporters.sql import Expr, date_field, decimal_field, int_field, text_field, timestamp_field
from loyalty.changefeed import Watermark, current_watermark, window
from loyalty.models import (
    ChangeKind,
    ChangeLog,
    CustomFieldDefinition,
    Location,
    Member,
    Reward,
    RewardCustomValue,
    RewardEvent,
    RewardStatus,
    RewardTrigger,
    RewardType,
)

if TYPE_CHECKING:
    from exporters.base import AnySelect

# ------------------------------------------------------------------ layout


def _c(name: str, type_: str, notes: str = "", documented: bool = False) -> Column:
    """A field of a headerless layout: its name is both the header token and the label."""
    return Column(name, name, type_, notes, documented=documented)


def _common(trigger: str, timestamp: str, documented: bool) -> tuple[Column, ...]:
    """Fields 1-9, shared by every event record (documented for Issued, designed for the rest)."""
    return (
        _c("Record Type", "Numeric(1)", f"always `{trigger}`", documented),
        _c("Reward Id", "Numeric(20)", "platform-internal id of the issued reward", documented),
        _c("Internal Member Id", "Numeric(20)", "", documented),
        _c("Reward Barcode", "String(40)", "", documented),
        _c("Reward Type External Reference", "String(20)", "empty when none", documented),
        _c("Reward Type Name", "String(120)", "current name of the type", documented),
        _c("Retail Value", "Float(21)", "two decimals, as issued", documented),
        _c("Point Value", "Float(21)", "two decimals, as issued", documented),
        _c(
            timestamp,
            "Date/Time YYYY-MM-DD HH:MM:SS (24 h)",
            "the event's time in the database timezone; UTC with Include Source Dates",
            documented,
        ),
    )


_SHARED_TAIL = (
    _c("Member Primary Account Id", "String(60)", "current"),
    _c(
        "Location External Reference",
        "String(20)",
        "where the event happened; empty when not at a location",
    ),
    _c("Performed By", "String(120)", "user or process that caused the event; may be empty"),
    _c("Reward Status", "String(10)", "current status: Active, Redeemed, Cancelled or Expired"),
)

ISSUED = (
    *_common("1", "Issued Timestamp", documented=True),
    _c("Member Email", "String(256)", "primary email (current)", documented=True),
    _c(
        "Member Mobile Phone",
        "String(30)",
        "as displayed in the app (platform phone mode), current",
        documented=True,
    ),
    _c(
        "Reward Master Type",
        "String(10)",
        "Choice, Forced, Gift Card, Internal, Recurring or Variable",
    ),
    _c(
        "Expiration Date",
        "Date YYYY-MM-DD",
        "the reward's last valid day (current); empty when none",
    ),
    *_SHARED_TAIL,
)


def _event_record(trigger: str, timestamp: str, *extra: Column) -> tuple[Column, ...]:
    return (*_common(trigger, timestamp, documented=False), *_SHARED_TAIL, *extra)


CUSTOM_FIELD = (
    _c("Record Type", "Numeric(1)", "always `6`"),
    _c("Reward Id", "Numeric(20)"),
    _c("Internal Member Id", "Numeric(20)"),
    _c("Custom Field External Reference", "String(20)"),
    _c("Custom Field Name", "String(60)"),
    _c(
        "Custom Field Value",
        "String(255)",
        "current value in canonical form (numbers as written, dates YYYY-MM-DD, true/false)",
    ),
    _c("Accompanied Record Type", "Numeric(1)", "`1` or `2`: the record this one follows"),
)

RECORD_TYPES = (
    RecordType("1", "Issued", ISSUED),
    RecordType("2", "Redeemed", _event_record("2", "Redeemed Timestamp"), documented=False),
    RecordType(
        "3",
        "Cancelled",
        _event_record(
            "3",
            "Cancelled Timestamp",
            _c("Points Returned", "Float(21)", "points given back to the member; 0.00 when none"),
        ),
        documented=False,
    ),
    RecordType(
        "4",
        "Redemption Reversal",
        _event_record("4", "Reversal Timestamp"),
        documented=False,
    ),
    RecordType("5", "Expired", _event_record("5", "Expired Timestamp"), documented=False),
    RecordType("6", "Member Reward Custom Field Value Data", CUSTOM_FIELD, documented=False),
    RecordType(
        "7",
        "Expiration Date Change",
        _event_record(
            "7",
            "Change Timestamp",
            _c("Previous Expiration Date", "Date YYYY-MM-DD", "empty when there was none"),
            _c("New Expiration Date", "Date YYYY-MM-DD", "empty when the date was cleared"),
        ),
        documented=False,
    ),
)

CUSTOM_FIELDS = Option(
    "custom_field_values",
    "Member reward custom field value data",
    OptionKind.BOOL,
    False,
    help="Write a record type 6 record for each custom field value of the reward right "
    "after every Issued (1) and Redeemed (2) record.",
)
SOURCE_DATES = Option(
    "include_source_dates",
    "Include Source Dates",
    OptionKind.BOOL,
    False,
    help="Write every timestamp in UTC instead of the database timezone.",
)

# DB = customer database number, SYNC# = the sync session (run) id.
NAME = NameRule("Standard_Reward_Sync_{db}_{sync}_{stamp}.txt", stamp=YMDHMS)

# ------------------------------------------------------------------ queries

EVENT_CODES = [
    RewardTrigger.ISSUED,
    RewardTrigger.REDEEMED,
    RewardTrigger.CANCELLED,
    RewardTrigger.REDEMPTION_REVERSAL,
    RewardTrigger.EXPIRED,
    RewardTrigger.EXPIRATION_DATE_CHANGE,
]
# Records a type-6 record follows (when the option is on).
ACCOMPANIED = [RewardTrigger.ISSUED, RewardTrigger.REDEEMED]

STATUS_WORDS = {
    RewardStatus.ACTIVE: "Active",
    RewardStatus.REDEEMED: "Redeemed",
    RewardStatus.CANCELLED: "Cancelled",
    RewardStatus.EXPIRED: "Expired",
}


def _s(value: str) -> Expr:
    return literal(value, String)


def _joined(*fields: Expr) -> Expr:
    """``f1 || '|' || f2 || ...``: one record as text (every field is already clean text)."""
    line = fields[0]
    for field in fields[1:]:
        line = line + _s("|") + field
    return line


def _event_line(zone: str) -> Expr:
    """Records 1-5 and 7: the nine common fields, Issued's own four, the shared four, extras."""
    code = ChangeLog.code
    common = _joined(
        text_field(code),
        int_field(Reward.id),
        int_field(Reward.member_id),
        text_field(Reward.barcode),
        text_field(RewardType.ext_ref),
        text_field(RewardType.name),
        decimal_field(Reward.retail_value, 2),
        decimal_field(Reward.point_value, 2),
        timestamp_field(RewardEvent.occurred_at, zone),
    )
    issued_only = _joined(
        text_field(Member.primary_email),
        text_field(Member.mobile_phone),
        text_field(RewardType.master_type),
        date_field(Reward.expires_on),
    )
    status = case(
        *((Reward.status == status, _s(word)) for status, word in STATUS_WORDS.items()),
        else_=_s(""),
    )
    shared_tail = _joined(
        text_field(Member.primary_account_id),
        text_field(Location.ext_ref),
        text_field(RewardEvent.actor),
        status,
    )
    extra = case(
        (
            code == RewardTrigger.CANCELLED.value,
            _joined(_s(""), decimal_field(func.coalesce(RewardEvent.points_returned, 0), 2)),
        ),
        (
            code == RewardTrigger.EXPIRATION_DATE_CHANGE.value,
            _joined(
                _s(""),
                date_field(RewardEvent.previous_expires_on),
                date_field(RewardEvent.new_expires_on),
            ),
        ),
        else_=_s(""),
    )
    middle = case((code == RewardTrigger.ISSUED.value, _joined(_s(""), issued_only)), else_=_s(""))
    return _joined(common + middle, shared_tail) + extra


def _logged(
    since: Watermark | None, until: Watermark, dialect: str, codes: list[RewardTrigger]
) -> tuple[Expr, ...]:
    """The change-log rows of reward triggers ``codes`` in the window ``(since, until]``."""
    return (
        window(since, until, dialect),
        ChangeLog.kind == ChangeKind.REWARD,
        ChangeLog.code.in_([code.value for code in codes]),
    )


def query(
    since: Watermark | None,
    until: Watermark,
    dialect: str,
    zone: str,
    custom_fields: bool,
) -> AnySelect:
    """One column, the record's text, in order: event time, log order, then the type-6
    records of an Issued / Redeemed record right after it (by custom field id)."""
    events = (
        select(
            RewardEvent.occurred_at.label("at"),
            ChangeLog.id.label("log_id"),
            literal(0).label("sub"),
            _event_line(zone).label("line"),
        )
        .select_from(ChangeLog)
        .join(RewardEvent, RewardEvent.id == ChangeLog.subject2_id)
        .join(Reward, Reward.id == RewardEvent.reward_id)
        .join(RewardType, RewardType.id == Reward.reward_type_id)
        .join(Member, Member.id == Reward.member_id)
        .outerjoin(Location, Location.id == RewardEvent.location_id)
        .where(*_logged(since, until, dialect, EVENT_CODES))
    )
    parts: list[Any] = [events]
    if custom_fields:
        values = (
            select(
                RewardEvent.occurred_at.label("at"),
                ChangeLog.id.label("log_id"),
                CustomFieldDefinition.id.label("sub"),
                _joined(
                    _s(RewardTrigger.CUSTOM_FIELD.value),
                    int_field(Reward.id),
                    int_field(Reward.member_id),
                    text_field(CustomFieldDefinition.ext_ref),
                    text_field(CustomFieldDefinition.name),
                    text_field(RewardCustomValue.value),
                    text_field(ChangeLog.code),
                ).label("line"),
            )
            .select_from(ChangeLog)
            .join(RewardEvent, RewardEvent.id == ChangeLog.subject2_id)
            .join(Reward, Reward.id == RewardEvent.reward_id)
            .join(Member, Member.id == Reward.member_id)
            .join(RewardCustomValue, RewardCustomValue.reward_id == Reward.id)
            .join(CustomFieldDefinition, CustomFieldDefinition.id == RewardCustomValue.field_id)
            .where(*_logged(since, until, dialect, ACCOMPANIED))
        )
        parts.append(values)
    records = union_all(*parts).subquery() if len(parts) > 1 else events.subquery()
    return select(records.c.line).order_by(records.c.at, records.c.log_id, records.c.sub)


def _query_for(ctx: ExportContext, until: Watermark) -> AnySelect:
    zone = "UTC" if ctx.options.get(SOURCE_DATES.key) else ctx.database_timezone
    return query(
        ctx.watermark,
        until,
        ctx.session.get_bind().dialect.name,
        zone,
        bool(ctx.options.get(CUSTOM_FIELDS.key)),
    )


def export(ctx: ExportContext) -> ExportResult:
    until = current_watermark(ctx.session)
    # SYNC# is the sync session: this run's id. A preview export outside a run has none: 0.
    session_id = ctx.instance_id if ctx.instance_id is not None else 0
    return export_one_file(
        ctx,
        _query_for(ctx, until),
        name_for=NAME.namer(ctx, numbered=False, db=str(ctx.database_number), sync=str(session_id)),
        header=None,
        watermark=until,
    )


SYNC_TYPE = SyncType(
    key="reward",
    label="Reward Sync",
    description="Reward issuances and every later change of an issued reward since the last "
    "run (incremental, one record per event, 7 record types).",
    semantics=Semantics.INCREMENTAL,
    file_kinds=(
        FileKind(
            key="",
            label="Reward file",
            columns=(),
            header=False,
            name_pattern="Standard_Reward_Sync_DB_SYNC#_YYYYMMDDHHMMSS.txt "
            "(DB = customer database number, SYNC# = sync session id, i.e. the run's id)",
            record_types=RECORD_TYPES,
        ),
    ),
    export=export,
    options=(CUSTOM_FIELDS, SOURCE_DATES),
    doc_status="partial",
    notes=(
        "One record per reward event since the last created file (the change log's `reward` "
        "entries after the stored watermark, up to the run's read snapshot): 1 Issued, "
        "2 Redeemed, 3 Cancelled, 4 Redemption Reversal, 5 Expired, 7 Expiration Date "
        "Change. Several events of one reward in a run are several records, each with the "
        "event's own time, location, user and (type 3) points returned, (type 7) dates "
        "before and after. The other fields are the reward's current information: status, "
        "expiration date, member contact data, the reward type's name.",
        "Records are in the order the events happened (the timestamp in field 9), then in "
        "the order they were recorded. No header. First run: every reward event the change "
        "log holds. A run with no events writes an empty file, so the receiver still gets "
        "its daily file.",
        "Designed here (the product's page stops after field 11 of type 1): fields 12-17 of "
        "type 1 and record types 2-7. Types 2-5 and 7 share fields 1-9 with type 1 (field 9 "
        "is the event's time), then Member Primary Account Id, Location External Reference, "
        "Performed By and Reward Status, then their own extras. Type 1 keeps its documented "
        "fields 10-11 (email, mobile phone) and adds Reward Master Type and Expiration Date "
        "before the same four. Reward Status words: Active, Redeemed, Cancelled, Expired.",
        "Timestamps: every timestamp (field 9 of every record) is written in the database "
        "timezone, `YYYY-MM-DD HH:MM:SS`; with *Include Source Dates* on, all of them are "
        "written in UTC. Dates (expiration dates) are days and are written as they are.",
        "*Member reward custom field value data*: when on, every Issued (1) and Redeemed (2) "
        "record is followed by one record type 6 per custom field the reward has a value for "
        "(fields without a value write nothing), in custom field creation order, with the "
        "current value. Custom field values set or changed at other times are not written "
        "on their own: the layout writes type 6 only beside types 1 and 2.",
        "File name: `DB` is the customer database number; `SYNC#` the sync session id, the "
        "id of the run (shown on the dashboard). An export outside a run (the CLI preview) "
        "has no session and writes `0`. No file number: the layout is never split.",
    ),
    reference_queries=window_reference(_query_for),
)
