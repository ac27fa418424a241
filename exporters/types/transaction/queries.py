"""The SQL of the Transaction Sync: one SELECT per file kind over the run's change window.

The window is never held in Python: every kind is one SELECT that joins ``change_log``
(as an ``IN`` subquery on the window) to the entity tables, formats the fields in SQL
(``exporters.sql``) and streams. Each SELECT's columns follow ``columns.COLUMNS`` of its
kind, in order; ``QUERIES`` maps a kind to its SELECT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from exporters import custom_columns
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
from exporters.types.transaction.layout import (
    CANCELLED,
    CUSTOM_FIELD,
    ISSUED,
    POINT_EXPIRATION,
    PRODUCT_LEVEL,
    PROMO_CODE_BONUS,
    TRANSACTION_TYPE,
    TRANSACTIONAL_BONUS,
)
from loyalty.changefeed import Watermark, window
from loyalty.models import (
    ChangeKind,
    ChangeLog,
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
