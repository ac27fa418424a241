"""transaction — Transaction Sync.

Mostly undocumented by the product: its page was captured up to the first field of the
first file (App Transaction Id). What was captured is binding: the file kinds, the
options, the four name patterns and field 1. Everything else (the fields of all eight
file kinds, how the kinds are told apart by name, the header) is designed here in the
style of the documented layouts and marked so in the registry and the docs.

Incremental: each run reads the change log window since the last created files (kind
``transaction``: POST, CNCL, PEXP, BONS, PRMO, CUST) and writes one file per chosen file
kind, all from that one window and one read snapshot. The window is never held in
Python: every kind is one SELECT that joins ``change_log`` (as an ``IN`` subquery on the
window) to the entity tables, formats the fields in SQL and streams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from exporters import custom_columns
from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Option,
    OptionKind,
    OriginalFile,
    Semantics,
    SyncType,
)
from exporters.naming import YMD, YMDHMS, NameRule
from exporters.options import MAX_RECORDS, max_records_option
from exporters.single_file import progress_after, write_query
from exporters.sql import (
    Expr,
    bigint_field,
    bool_field,
    date_field,
    decimal_field,
    int_field,
    text_field,
    timestamp_field,
)
from exporters.writer import RecordWriter
from loyalty.changefeed import Watermark, current_watermark, window
from loyalty.models import (
    ChangeKind,
    ChangeLog,
    CustomFieldEntity,
    Location,
    Member,
    PointLedgerEntry,
    Product,
    Promotion,
    Transaction,
    TransactionBonus,
    TransactionCustomValue,
    TransactionLine,
    TransactionStatus,
    TransactionTrigger,
    TransactionType,
)

if TYPE_CHECKING:
    from exporters.base import AnySelect

# ---------------------------------------------------------------------------------------
# Options

FILE_KINDS = "file_kinds"
INCLUDE_ISSUED_AND_CANCELLED = "include_issued_and_cancelled"
FILENAME_TIME = "filename_time"

ISSUED = "issued"
PRODUCT_LEVEL = "product_level"
CANCELLED = "cancelled"
POINT_EXPIRATION = "point_expiration"
TRANSACTIONAL_BONUS = "transactional_bonus"
PROMO_CODE_BONUS = "promo_code_bonus"
TRANSACTION_TYPE = "transaction_type"
CUSTOM_FIELD = "custom_field"

# ---------------------------------------------------------------------------------------
# File names
#
# The documented patterns name one file (TransactionSync_YYYYMMDD[HHMMSS][_##].txt); how
# the other kinds are named was not captured. The Issued (transaction-level) file keeps
# the documented name; every other kind inserts its own word after "TransactionSync_", so
# a receiver tells them apart by the character after the underscore (a digit for the
# main file, a letter otherwise) and all files of one run share one stamp.

PREFIX = "TransactionSync_"
INFIXES: dict[str, str] = {
    ISSUED: "",
    PRODUCT_LEVEL: "ProductLevel_",
    CANCELLED: "Cancelled_",
    POINT_EXPIRATION: "PointExpiration_",
    TRANSACTIONAL_BONUS: "TransactionalBonus_",
    PROMO_CODE_BONUS: "PromoCodeBonus_",
    TRANSACTION_TYPE: "TransactionType_",
    CUSTOM_FIELD: "CustomField_",
}
# Date-only by default; a second run on the same day adds the time (the documented
# "filename time" form) instead of replacing the first run's files.
NAME_DATE = NameRule(PREFIX + "{stamp}{number}.txt", stamp=YMD, number="_##", repeat_stamp=YMDHMS)
NAME_TIME = NameRule(PREFIX + "{stamp}{number}.txt", stamp=YMDHMS, number="_##")


def _with_infix(name: str, infix: str) -> str:
    return PREFIX + infix + name[len(PREFIX) :]


def namers(ctx: ExportContext, numbered: bool) -> dict[str, Callable[[int], str]]:
    """``name_for(number)`` per file kind, all with the run's one stamp.

    The rule resolves repeats on the main file's name; it is told a name is taken when
    an earlier run used that stamp for *any* kind, so a run's files never mix with (or
    replace) an earlier run's, whichever kinds either run chose.
    """
    rule = NAME_TIME if ctx.options.get(FILENAME_TIME) else NAME_DATE

    def taken(name: str) -> bool:
        return any(ctx.name_taken(_with_infix(name, infix)) for infix in INFIXES.values())

    main = rule.namer(replace(ctx, name_taken=taken), numbered=numbered)

    def for_kind(infix: str) -> Callable[[int], str]:
        return lambda number: _with_infix(main(number), infix)

    return {key: for_kind(infix) for key, infix in INFIXES.items()}


def _pattern(infix: str) -> str:
    base = PREFIX + infix
    return (
        f"{base}YYYYMMDD.txt; {base}YYYYMMDD_##.txt (max records per file); "
        f"{base}YYYYMMDDHHMMSS.txt (filename time, or a second run on the same day); "
        f"{base}YYYYMMDDHHMMSS_##.txt"
    )


# ---------------------------------------------------------------------------------------
# Columns (field 1 of the Issued file is documented; all else is designed here)

DB_TIME = "Date/Time YYYY-MM-DD HH:MM:SS"
DECIMAL = "Decimal(14,2)"


def _designed(header: str, label: str, type_: str, notes: str = "") -> Column:
    return Column(header, label, type_, notes, documented=False)


APP_TRANSACTION_ID = Column(
    "AppTransactionId", "App Transaction Id", "Numeric(10)", "platform-internal transaction id"
)
TXN_ID = _designed(
    "AppTransactionId", "App Transaction Id", "Numeric(10)", "platform-internal transaction id"
)
MEMBER_ID = _designed("MemberId", "Member Id", "Numeric(10)", "platform-internal member id")
ACCOUNT_ID = _designed(
    "MemberAccountId",
    "Member Account Id",
    "String(60)",
    "the member's primary account id now (most recent active id of the highest rank)",
)
TXN_REF = _designed(
    "TransactionExternalReference",
    "Transaction External Reference",
    "String(20)",
    "the point-of-sale reference (receipt number); empty when none",
)
TYPE_REF = _designed(
    "TransactionTypeExternalReference", "Transaction Type External Reference", "String(20)"
)
LOCATION_ID = _designed(
    "LocationId", "Location Id", "Numeric(10)", "-1 when the transaction has no location"
)
LOCATION_REF = _designed(
    "LocationExternalReference",
    "Location External Reference",
    "String(20)",
    "empty when the transaction has no location",
)
TXN_TIME = _designed(
    "TransactionTimestamp",
    "Transaction Timestamp (Database Timezone)",
    DB_TIME,
    "when the transaction happened, in the database timezone",
)
AMOUNT = _designed(
    "TransactionAmount", "Transaction Amount", DECIMAL, "retail value of the transaction"
)
BONUS_ID = _designed("BonusId", "Bonus Id", "Numeric(19)", "platform-internal bonus id")
PROMOTION_ID = _designed(
    "PromotionId", "Promotion Id", "Numeric(10)", "empty when the bonus has no promotion"
)
PROMOTION_REF = _designed(
    "PromotionExternalReference",
    "Promotion External Reference",
    "String(20)",
    "empty when the bonus has no promotion",
)
BONUS_NAME = _designed(
    "BonusName", "Bonus Name", "String(120)", "the promotion's name when the bonus was awarded"
)
BONUS_POINTS = _designed("BonusPoints", "Bonus Points", DECIMAL)
AWARDED = _designed(
    "AwardedTimestamp", "Awarded Timestamp (Database Timezone)", DB_TIME, "when it was awarded"
)
BONUS_CANCELLED = _designed(
    "Cancelled",
    "Cancelled",
    "Boolean",
    "True / False: the bonus is cancelled now (its transaction was cancelled)",
)
BONUS_CANCELLED_TIME = _designed(
    "CancelledTimestamp",
    "Cancelled Timestamp (Database Timezone)",
    DB_TIME,
    "empty when not cancelled",
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ISSUED: (
        APP_TRANSACTION_ID,
        TXN_REF,
        MEMBER_ID,
        ACCOUNT_ID,
        _designed("TransactionTypeId", "Transaction Type Id", "Numeric(10)"),
        TYPE_REF,
        LOCATION_ID,
        LOCATION_REF,
        TXN_TIME,
        _designed(
            "SourceDate",
            "Source Date",
            "Date YYYY-MM-DD",
            "the transaction's date in its location's local time",
        ),
        _designed(
            "PostedTimestamp",
            "Posted Timestamp (Database Timezone)",
            DB_TIME,
            "when the transaction was posted to the program",
        ),
        AMOUNT,
        _designed(
            "BasePoints",
            "Base Points",
            DECIMAL,
            "base points the transaction earned (bonuses are in the bonus files)",
        ),
        _designed(
            "BasketLineCount",
            "Basket Line Count",
            "Numeric(5)",
            "number of its basket lines (rows in the product-level file)",
        ),
        _designed(
            "PostedBy", "Posted By", "String(120)", "user or process that posted it; may be empty"
        ),
        _designed(
            "Cancelled",
            "Cancelled",
            "Boolean",
            "True / False: cancelled now (True only for a transaction issued and cancelled "
            "since the last run, when such transactions are included)",
        ),
    ),
    PRODUCT_LEVEL: (
        TXN_ID,
        _designed(
            "LineNumber", "Line Number", "Numeric(5)", "1, 2, ... within the transaction's basket"
        ),
        MEMBER_ID,
        _designed(
            "ProductItemId",
            "Product Item Id",
            "Numeric(10)",
            "empty when the line has no product item",
        ),
        _designed(
            "ProductItemExternalReference",
            "Product Item External Reference",
            "String(20)",
            "the SKU; empty when no product item",
        ),
        _designed("ProductItemName", "Product Item Name", "String(120)"),
        _designed("Quantity", "Quantity", "Numeric(10)", "negative for a returned item"),
        _designed("UnitPrice", "Unit Price", DECIMAL, "0.00 for Zero Retail items"),
        _designed("LineAmount", "Line Amount", DECIMAL, "quantity x unit price"),
        _designed("LinePoints", "Line Points", DECIMAL, "base points of the line"),
    ),
    CANCELLED: (
        TXN_ID,
        TXN_REF,
        MEMBER_ID,
        ACCOUNT_ID,
        TYPE_REF,
        LOCATION_ID,
        LOCATION_REF,
        TXN_TIME,
        _designed(
            "CancelledTimestamp",
            "Cancelled Timestamp (Database Timezone)",
            DB_TIME,
            "when the transaction was cancelled",
        ),
        _designed("CancelReason", "Cancel Reason", "String(120)", "may be empty"),
        AMOUNT,
        _designed("BasePointsReversed", "Base Points Reversed", DECIMAL, "base points taken back"),
        _designed(
            "BonusPointsReversed",
            "Bonus Points Reversed",
            DECIMAL,
            "transactional and promo code bonus points of the transaction taken back",
        ),
    ),
    POINT_EXPIRATION: (
        _designed(
            "PointExpirationId",
            "Point Expiration Id",
            "Numeric(19)",
            "platform-internal id of the expiration (point ledger entry)",
        ),
        MEMBER_ID,
        ACCOUNT_ID,
        _designed("ExpiredPoints", "Expired Points", DECIMAL, "positive number of points expired"),
        _designed(
            "ExpirationTimestamp",
            "Expiration Timestamp (Database Timezone)",
            DB_TIME,
            "when the points expired",
        ),
        _designed(
            "Description",
            "Description",
            "String(120)",
            "e.g. Automatic point expiration; may be empty",
        ),
    ),
    TRANSACTIONAL_BONUS: (
        BONUS_ID,
        TXN_ID,
        MEMBER_ID,
        ACCOUNT_ID,
        PROMOTION_ID,
        PROMOTION_REF,
        BONUS_NAME,
        BONUS_POINTS,
        AWARDED,
        BONUS_CANCELLED,
        BONUS_CANCELLED_TIME,
    ),
    PROMO_CODE_BONUS: (
        BONUS_ID,
        _designed(
            "AppTransactionId",
            "App Transaction Id",
            "Numeric(10)",
            "the transaction the code was entered with; empty when entered without one",
        ),
        MEMBER_ID,
        ACCOUNT_ID,
        _designed("PromoCode", "Promo Code", "String(40)"),
        PROMOTION_ID,
        PROMOTION_REF,
        BONUS_NAME,
        BONUS_POINTS,
        AWARDED,
        BONUS_CANCELLED,
        BONUS_CANCELLED_TIME,
    ),
    TRANSACTION_TYPE: (
        _designed("TransactionTypeId", "Transaction Type Id", "Numeric(10)"),
        TYPE_REF,
        _designed("TransactionTypeName", "Transaction Type Name", "String(60)"),
        _designed("TransactionTypeDescription", "Transaction Type Description", "String(255)"),
        _designed("EarnsPoints", "Earns Points", "Boolean", "True / False"),
        _designed("CountsForRfm", "Counts For RFM", "Boolean", "True / False"),
        _designed(
            "TransactionCount",
            "Transaction Count",
            "Numeric(10)",
            "transactions of this type in this run's Issued files",
        ),
        _designed("TotalAmount", "Total Amount", DECIMAL, "sum of their Transaction Amount"),
        _designed("TotalBasePoints", "Total Base Points", DECIMAL, "sum of their Base Points"),
    ),
    CUSTOM_FIELD: (
        TXN_ID,
        MEMBER_ID,
        custom_columns.column_doc("transaction", "Always", False),
    ),
}

LABELS: dict[str, str] = {
    ISSUED: "Issued Transactions (transaction level)",
    PRODUCT_LEVEL: "Issued Transactions (product level)",
    CANCELLED: "Cancelled Transactions",
    POINT_EXPIRATION: "Point Expirations",
    TRANSACTIONAL_BONUS: "Transactional Bonuses",
    PROMO_CODE_BONUS: "Promo Code Bonuses",
    TRANSACTION_TYPE: "Transaction Type Details",
    CUSTOM_FIELD: "Transaction Custom Fields",
}
KIND_KEYS = tuple(LABELS)

# ---------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class Window:
    """The run's slice of the change log, ``(since, until]``, and how to write the rows."""

    since: Watermark | None
    until: Watermark
    dialect: str
    zone: str  # the database timezone: every timestamp of this layout is written in it
    include_issued_and_cancelled: bool

    def subjects(self, *codes: TransactionTrigger) -> AnySelect:
        """``SELECT subject_id`` of the window's transaction changes with these codes."""
        return select(ChangeLog.subject_id).where(
            window(self.since, self.until, self.dialect),
            ChangeLog.kind == ChangeKind.TRANSACTION,
            ChangeLog.code.in_([str(code) for code in codes]),
        )

    def issued(self) -> ColumnElement[bool]:
        """Transactions posted in the window (for the Issued files), honouring the option."""
        posted = Transaction.id.in_(self.subjects(TransactionTrigger.POSTED))
        if self.include_issued_and_cancelled:
            return posted
        # Posted in the window and cancelled in this snapshot means cancelled in the
        # window too: the cancellation came later than a posting the last run did not see.
        return and_(posted, Transaction.status == TransactionStatus.POSTED)

    def time(self, column: Any) -> Expr:
        return timestamp_field(column, self.zone)


def _location_id(column: Any) -> Expr:
    return int_field(func.coalesce(column, -1))


def issued_query(w: Window) -> AnySelect:
    lines = (
        select(func.count(TransactionLine.id))
        .where(TransactionLine.transaction_id == Transaction.id)
        .scalar_subquery()
    )
    return (
        select(
            int_field(Transaction.id),
            text_field(Transaction.ext_ref),
            int_field(Transaction.member_id),
            text_field(Member.primary_account_id),
            int_field(Transaction.type_id),
            text_field(TransactionType.ext_ref),
            _location_id(Transaction.location_id),
            text_field(Location.ext_ref),
            w.time(Transaction.occurred_at),
            date_field(Transaction.source_date),
            w.time(Transaction.posted_at),
            decimal_field(Transaction.amount),
            decimal_field(Transaction.points),
            int_field(lines),
            text_field(Transaction.posted_by),
            bool_field(Transaction.status == TransactionStatus.CANCELLED),
        )
        .join(Member, Member.id == Transaction.member_id)
        .join(TransactionType, TransactionType.id == Transaction.type_id)
        .outerjoin(Location, Location.id == Transaction.location_id)
        .where(w.issued())
        .order_by(Transaction.id)
    )


def product_level_query(w: Window) -> AnySelect:
    return (
        select(
            int_field(Transaction.id),
            int_field(TransactionLine.line_number),
            int_field(Transaction.member_id),
            int_field(TransactionLine.product_id),
            text_field(Product.sku),
            text_field(Product.name),
            int_field(TransactionLine.quantity),
            decimal_field(TransactionLine.unit_price),
            decimal_field(TransactionLine.amount),
            decimal_field(TransactionLine.points),
        )
        .select_from(Transaction)
        .join(TransactionLine, TransactionLine.transaction_id == Transaction.id)
        .outerjoin(Product, Product.id == TransactionLine.product_id)
        .where(w.issued())
        .order_by(Transaction.id, TransactionLine.line_number)
    )


def cancelled_query(w: Window) -> AnySelect:
    bonus_points = (
        select(func.coalesce(func.sum(TransactionBonus.points), 0))
        .where(
            TransactionBonus.transaction_id == Transaction.id,
            TransactionBonus.cancelled_at.is_not(None),
        )
        .scalar_subquery()
    )
    return (
        select(
            int_field(Transaction.id),
            text_field(Transaction.ext_ref),
            int_field(Transaction.member_id),
            text_field(Member.primary_account_id),
            text_field(TransactionType.ext_ref),
            _location_id(Transaction.location_id),
            text_field(Location.ext_ref),
            w.time(Transaction.occurred_at),
            w.time(Transaction.cancelled_at),
            text_field(Transaction.cancel_reason),
            decimal_field(Transaction.amount),
            decimal_field(Transaction.points),
            decimal_field(bonus_points),
        )
        .join(Member, Member.id == Transaction.member_id)
        .join(TransactionType, TransactionType.id == Transaction.type_id)
        .outerjoin(Location, Location.id == Transaction.location_id)
        .where(Transaction.id.in_(w.subjects(TransactionTrigger.CANCELLED)))
        .order_by(Transaction.id)
    )


def point_expiration_query(w: Window) -> AnySelect:
    return (
        select(
            bigint_field(PointLedgerEntry.id),
            int_field(PointLedgerEntry.member_id),
            text_field(Member.primary_account_id),
            decimal_field(-PointLedgerEntry.points),
            w.time(PointLedgerEntry.occurred_at),
            text_field(PointLedgerEntry.description),
        )
        .join(Member, Member.id == PointLedgerEntry.member_id)
        .where(PointLedgerEntry.id.in_(w.subjects(TransactionTrigger.POINTS_EXPIRED)))
        .order_by(PointLedgerEntry.id)
    )


def _bonus_query(w: Window, code: TransactionTrigger, promo_code: bool) -> AnySelect:
    code_column: tuple[Expr, ...] = (text_field(TransactionBonus.promo_code),) if promo_code else ()
    return (
        select(
            bigint_field(TransactionBonus.id),
            int_field(TransactionBonus.transaction_id),
            int_field(TransactionBonus.member_id),
            text_field(Member.primary_account_id),
            *code_column,
            int_field(TransactionBonus.promotion_id),
            text_field(Promotion.ext_ref),
            text_field(TransactionBonus.name),
            decimal_field(TransactionBonus.points),
            w.time(TransactionBonus.awarded_at),
            bool_field(TransactionBonus.cancelled_at.is_not(None)),
            w.time(TransactionBonus.cancelled_at),
        )
        .join(Member, Member.id == TransactionBonus.member_id)
        .outerjoin(Promotion, Promotion.id == TransactionBonus.promotion_id)
        .where(TransactionBonus.id.in_(w.subjects(code)))
        .order_by(TransactionBonus.id)
    )


def transactional_bonus_query(w: Window) -> AnySelect:
    return _bonus_query(w, TransactionTrigger.TRANSACTIONAL_BONUS, promo_code=False)


def promo_code_bonus_query(w: Window) -> AnySelect:
    return _bonus_query(w, TransactionTrigger.PROMO_CODE_BONUS, promo_code=True)


def transaction_type_query(w: Window) -> AnySelect:
    # Totals first, in one pass over the window's transactions; then the few types.
    totals = (
        select(
            Transaction.type_id,
            func.count(Transaction.id).label("transactions"),
            func.sum(Transaction.amount).label("amount"),
            func.sum(Transaction.points).label("points"),
        )
        .where(w.issued())
        .group_by(Transaction.type_id)
        .subquery("totals")
    )
    return (
        select(
            int_field(TransactionType.id),
            text_field(TransactionType.ext_ref),
            text_field(TransactionType.name),
            text_field(TransactionType.description),
            bool_field(TransactionType.earns_points),
            bool_field(TransactionType.counts_for_rfm),
            int_field(totals.c.transactions),
            decimal_field(totals.c.amount),
            decimal_field(totals.c.points),
        )
        .join(totals, totals.c.type_id == TransactionType.id)
        .order_by(TransactionType.id)
    )


def custom_field_query(w: Window, fields: list[custom_columns.Definition]) -> AnySelect:
    """Transactions posted in the window or whose custom fields changed in it.

    One pass over the window groups its POST and CUST rows by transaction and notes
    whether it was posted in the window; excluding issued-and-cancelled transactions is
    then a plain condition on that row (a NOT EXISTS inside an OR would be re-run per
    transaction by PostgreSQL, and NOT IN does not scale past work_mem).
    """
    changed = (
        w.subjects(TransactionTrigger.POSTED, TransactionTrigger.CUSTOM_FIELD)
        .add_columns(
            func.max(case((ChangeLog.code == str(TransactionTrigger.POSTED), 1), else_=0)).label(
                "posted_here"
            )
        )
        .group_by(ChangeLog.subject_id)
        .subquery("changed")
    )
    statement = (
        select(int_field(Transaction.id), int_field(Transaction.member_id))
        .select_from(changed)
        .join(Transaction, Transaction.id == changed.c.subject_id)
    )
    if not w.include_issued_and_cancelled:
        # Left out of the Issued files, so their custom fields are left out too.
        statement = statement.where(
            or_(Transaction.status == TransactionStatus.POSTED, changed.c.posted_here == 0)
        )
    statement = custom_columns.add_columns(
        statement, TransactionCustomValue, "transaction_id", Transaction.id, fields
    )
    return statement.order_by(Transaction.id)


# ---------------------------------------------------------------------------------------
# Export

Build = Callable[[Window, list[custom_columns.Definition]], "AnySelect"]
QUERIES: dict[str, Build] = {
    ISSUED: lambda w, _f: issued_query(w),
    PRODUCT_LEVEL: lambda w, _f: product_level_query(w),
    CANCELLED: lambda w, _f: cancelled_query(w),
    POINT_EXPIRATION: lambda w, _f: point_expiration_query(w),
    TRANSACTIONAL_BONUS: lambda w, _f: transactional_bonus_query(w),
    PROMO_CODE_BONUS: lambda w, _f: promo_code_bonus_query(w),
    TRANSACTION_TYPE: lambda w, _f: transaction_type_query(w),
    CUSTOM_FIELD: custom_field_query,
}


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
            name_pattern=_pattern(INFIXES[key]),
        )
        for key in KIND_KEYS
    ),
    options=(
        Option(
            FILE_KINDS,
            "File kinds",
            OptionKind.MULTI,
            list(KIND_KEYS),
            help=(
                "Which files each run writes (one file per kind, or several with a maximum "
                "number of records per file). All kinds by default."
            ),
            choices=tuple((key, LABELS[key]) for key in KIND_KEYS),
            minimum=1,
        ),
        Option(
            INCLUDE_ISSUED_AND_CANCELLED,
            "Include issued-and-cancelled transactions",
            OptionKind.BOOL,
            True,
            help=(
                "Whether the Issued files (and the custom field file) include transactions "
                "both issued and cancelled since the last run. The Cancelled file lists "
                "every cancellation either way."
            ),
        ),
        max_records_option("_01, _02, ... for each kind", documented=True),
        Option(
            FILENAME_TIME,
            "Filename time",
            OptionKind.BOOL,
            False,
            help="Adds the run's time (HHMMSS) to the file names.",
        ),
    ),
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
