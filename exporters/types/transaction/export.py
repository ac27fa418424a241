"""The Transaction Sync's entry point: ``export`` writes a run's files, ``SYNC_TYPE``
declares the type to the registry (with the notes the layout page and docs show).

A run takes one window of the change log and one read snapshot for all its kinds, and
writes one file (or several, split at the maximum) per chosen kind, one kind after the
other; the watermark it returns is stored only when the files are created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exporters import custom_columns
from exporters.base import (
    ExportContext,
    ExportResult,
    FileKind,
    OriginalFile,
    Semantics,
    SyncType,
)
from exporters.options import MAX_RECORDS
from exporters.single_file import progress_after, write_query
from exporters.types.transaction.columns import COLUMNS
from exporters.types.transaction.layout import (
    CUSTOM_FIELD,
    FILE_KINDS,
    INCLUDE_ISSUED_AND_CANCELLED,
    INFIXES,
    KIND_KEYS,
    LABELS,
    OPTIONS,
    name_pattern,
    namers,
)
from exporters.types.transaction.queries import QUERIES, Window
from exporters.writer import RecordWriter
from loyalty.changefeed import current_watermark
from loyalty.models import CustomFieldEntity

if TYPE_CHECKING:
    from exporters.base import AnySelect


def chosen_kinds(options: dict[str, Any]) -> list[str]:
    chosen = set(options.get(FILE_KINDS) or ())
    kinds = [key for key in KIND_KEYS if key in chosen]
    if not kinds:
        raise ValueError("The Transaction Sync has no file kind chosen; choose at least one.")
    return kinds


def _window(ctx: ExportContext) -> Window:
    bind = ctx.session.get_bind()
    return Window(
        since=ctx.watermark,
        until=current_watermark(ctx.session),
        dialect=bind.dialect.name,
        zone=ctx.database_timezone,
        include_issued_and_cancelled=bool(ctx.options.get(INCLUDE_ISSUED_AND_CANCELLED, True)),
    )


def _fields(ctx: ExportContext, kinds: list[str]) -> list[custom_columns.Definition]:
    if CUSTOM_FIELD not in kinds:
        return []
    return custom_columns.definitions(ctx.session, CustomFieldEntity.TRANSACTION)


def _header(kind: str, fields: list[custom_columns.Definition]) -> list[str]:
    static = [c.header for c in COLUMNS[kind] if c.header != custom_columns.HEADER_PLACEHOLDER]
    return static + (custom_columns.headers(fields) if kind == CUSTOM_FIELD else [])


def export(ctx: ExportContext) -> ExportResult:
    kinds = chosen_kinds(ctx.options)
    w = _window(ctx)
    fields = _fields(ctx, kinds)
    max_records = ctx.options.get(MAX_RECORDS)
    names = namers(ctx, numbered=max_records is not None)
    files: list[OriginalFile] = []
    written = 0
    for kind in kinds:
        writer = RecordWriter(
            ctx.out_dir,
            kind=kind,
            name_for=names[kind],
            header=_header(kind, fields),
            max_records=max_records,
            progress=progress_after(ctx.progress, written),
        )
        write_query(writer, ctx.session, QUERIES[kind](w, fields))
        # Every chosen kind is written every run, header only when it has no records, so
        # a receiver can tell "nothing happened" from "a file went missing".
        files += writer.close()
        written += writer.total
    return ExportResult(files=files, watermark=w.until)


def reference_queries(ctx: ExportContext) -> list[AnySelect]:
    kinds = chosen_kinds(ctx.options)
    w = _window(ctx)
    fields = _fields(ctx, kinds)
    return [QUERIES[kind](w, fields) for kind in kinds]


SYNC_TYPE = SyncType(
    key="transaction",
    label="Transaction Sync",
    description=(
        "Transactions, basket lines, cancellations, point expirations, bonuses, transaction "
        "types and transaction custom fields since the last run, one file per chosen kind."
    ),
    semantics=Semantics.INCREMENTAL,
    file_kinds=tuple(
        FileKind(
            key=key,
            label=LABELS[key],
            columns=COLUMNS[key],
            header=True,
            name_pattern=name_pattern(INFIXES[key]),
        )
        for key in KIND_KEYS
    ),
    options=OPTIONS,
    export=export,
    doc_status="partial",
    notes=(
        "Only the file kinds, the options, the file name patterns and field 1 of the Issued "
        "(transaction-level) file (App Transaction Id) are documented by the product; every "
        "other field of every kind, the kinds' names and the header lines are designed here "
        "(marked **designed here** below).",
        "Incremental: a run exports what the change log recorded since the last run that "
        "created files (POST: Issued files and Transaction Type Details; CNCL: Cancelled; "
        "PEXP: Point Expirations; BONS: Transactional Bonuses; PRMO: Promo Code Bonuses; "
        "POST and CUST: custom field file), with the current values of what it describes. "
        "All kinds of one run come from one window and one read snapshot. A run that fails "
        "moves nothing, so the next run includes what it held. The first run of a sync "
        "exports everything the change log holds.",
        "One record per entity per kind and run, however often it changed in the window: a "
        "transaction once in each Issued file (and in the custom field file, however many "
        "of its fields changed), a cancellation once, each point expiration and each bonus "
        "once. Rows are ordered by App Transaction Id (product level: then Line Number), "
        "Point Expiration Id, Bonus Id, or Transaction Type Id.",
        "File kinds are told apart by name: the Issued (transaction-level) file keeps the "
        "documented name TransactionSync_YYYYMMDD.txt; every other kind inserts a word "
        "after TransactionSync_: ProductLevel_, Cancelled_, PointExpiration_, "
        "TransactionalBonus_, PromoCodeBonus_, TransactionType_, CustomField_ (e.g. "
        "TransactionSync_Cancelled_20261123.txt). All files of one run share one stamp. The "
        "name is date-only unless Filename time is on; a second run on the same day writes "
        "the time too (YYYYMMDDHHMMSS), so it never replaces the first run's files.",
        "Every chosen kind is written on every run, with only its header line when nothing "
        "happened; every file starts with a header line of CamelCase field names. With a "
        "maximum number of records per file, every kind is numbered _01, _02, ... (each kind "
        "counts its own files).",
        "Issued-and-cancelled: a transaction posted and cancelled since the last run appears "
        "in the Issued files with Cancelled = True when the option is on (the default), and "
        "not at all (nor in the custom field file) when it is off. The option changes only "
        "those files: the Cancelled file still lists every cancellation since the last "
        "run, and the bonus files every bonus (a receiver may ignore ids it never saw).",
        "Choosing kinds: the sync keeps one position in the change log for all kinds, so a "
        "kind switched on later starts with the changes since the last run; it is not "
        "back-filled.",
        "Timestamps are written in the database timezone (as the Reward Sync's Issued "
        "Timestamp is by default), without milliseconds; Source Date is the transaction's "
        "date in its location's local time; amounts and points have two decimals; "
        "booleans are True/False; LocationId is -1 when a transaction has no location "
        "(as the Interaction Sync writes it).",
        "Transaction Type Details: one row per transaction type of the transactions in this "
        "run's Issued files (same selection, so its counts and totals reconcile with them), "
        "with the type's current definition.",
        "Custom field file: one row per transaction posted since the last run or whose "
        "custom fields were set, changed or cleared since then (the 2020.1 behaviour), with "
        "the current value of every transaction custom field. Columns after MemberId: one "
        "per transaction custom field, ordered by definition id (a new field is always "
        "appended), headed by the field's external reference, empty when not set.",
    ),
    reference_queries=reference_queries,
)
