"""Posting and cancelling transactions, and the bonuses they earn.

Posting writes the transaction, its basket lines (items flagged Drop From Basket are left
out, Zero Retail items keep no retail value, Zero Points items earn nothing), the base
points, and adds the quantities to the member's lifetime product purchases. Cancelling
takes all of that back, bonuses included (transactions are never deleted).

Change log (kind ``transaction``): ``POST``, ``CNCL``, ``BONS`` (transactional bonus),
``PRMO`` (promo code bonus), ``CUST`` (custom field changed after posting); every point
movement also writes Member Extended Point Change (8) through the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.campaigns import Promotion
from loyalty.models.change_log import ChangeKind, TransactionTrigger
from loyalty.models.custom_fields import CustomFieldDefinition
from loyalty.models.enums import BonusKind, LedgerKind, TransactionStatus
from loyalty.models.locations import Location
from loyalty.models.members import Member
from loyalty.models.products import MemberProductPurchase, Product
from loyalty.models.transactions import (
    Transaction,
    TransactionBonus,
    TransactionLine,
    TransactionType,
)
from loyalty.services._common import CENT, Checks, check_member_writable, log_change, moment
from loyalty.services.custom_fields import set_transaction_custom_field
from loyalty.services.points import post_ledger


@dataclass(frozen=True)
class LineInput:
    """One basket line as the point of sale sends it."""

    product: Product | None
    quantity: int
    unit_price: Decimal | int | str
    points: Decimal | int | str | None = (
        None  # None: the program's rule (1 point per unit of money)
    )


def base_points(amount: Decimal) -> Decimal:
    """The program's earn rule (designed here): one point per whole unit of money."""
    return amount.to_integral_value(rounding=ROUND_DOWN) if amount > 0 else Decimal(0)


def _source_date(location: Location | None, occurred_at: datetime) -> Any:
    zone = ZoneInfo(location.timezone) if location and location.timezone else None
    return occurred_at.astimezone(zone).date() if zone else occurred_at.date()


def _add_purchase(
    session: Session, member_id: int, product_id: int, quantity: int, when: datetime
) -> None:
    """Atomic upsert of a lifetime quantity (two writers on one member never lose one)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(MemberProductPurchase).values(
        member_id=member_id, product_id=product_id, quantity=quantity, last_purchased_at=when
    )
    table = MemberProductPurchase.__table__
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.member_id, table.c.product_id],
            set_={
                "quantity": table.c.quantity + statement.excluded.quantity,
                "last_purchased_at": func.coalesce(
                    func.max(table.c.last_purchased_at, statement.excluded.last_purchased_at)
                    if dialect != "postgresql"
                    else func.greatest(
                        table.c.last_purchased_at, statement.excluded.last_purchased_at
                    ),
                    statement.excluded.last_purchased_at,
                ),
            },
        )
    )


def post_transaction(
    session: Session,
    member: Member,
    transaction_type: TransactionType,
    *,
    occurred_at: datetime,
    lines: Sequence[LineInput] = (),
    amount: Decimal | int | str | None = None,
    location: Location | None = None,
    ext_ref: str | None = None,
    posted_by: str | None = None,
    custom_fields: dict[CustomFieldDefinition, Any] | None = None,
    at: datetime | None = None,
) -> Transaction:
    """Post a transaction (``at`` is when it was posted, ``occurred_at`` when it happened)."""
    when = moment(at)
    occurred = moment(occurred_at)
    check_member_writable(member)
    checks = Checks()
    clean_ref = checks.text("ext_ref", ext_ref, 20)
    clean_by = checks.text("posted_by", posted_by, 120)
    if occurred > when:
        checks.fail("occurred_at", "A transaction cannot happen after it is posted.")
    kept: list[tuple[LineInput, Decimal, Decimal, Decimal]] = []
    for number, line in enumerate(lines, start=1):
        if (
            not isinstance(line.quantity, int)
            or isinstance(line.quantity, bool)
            or line.quantity == 0
        ):
            checks.fail(
                f"lines[{number}].quantity", "A line's quantity is a non-zero whole number."
            )
            continue
        price = checks.amount(f"lines[{number}].unit_price", line.unit_price, positive=True)
        product = line.product
        if product is not None and product.drop_from_basket:
            continue
        zero_retail = product is not None and product.zero_retail
        stored_price = Decimal(0) if zero_retail else price
        line_amount = (stored_price * line.quantity).quantize(CENT)
        if product is not None and product.zero_points:
            points = Decimal(0)
        elif line.points is not None:
            points = checks.amount(f"lines[{number}].points", line.points)
        else:
            points = base_points(line_amount)
        kept.append((line, stored_price, line_amount, points))
    total = (
        checks.amount("amount", amount)
        if amount is not None
        else sum((a for _, _, a, _ in kept), Decimal(0))
    )
    checks.done()
    if not transaction_type.earns_points:
        earned = Decimal(0)
    elif kept:
        earned = sum((p for _, _, _, p in kept), Decimal(0))
    else:
        earned = base_points(total)
    transaction = Transaction(
        member_id=member.id,
        type_id=transaction_type.id,
        location_id=location.id if location else None,
        ext_ref=clean_ref,
        occurred_at=occurred,
        source_date=_source_date(location, occurred),
        posted_at=when,
        amount=total,
        points=earned,
        status=TransactionStatus.POSTED,
        posted_by=clean_by,
    )
    session.add(transaction)
    session.flush()
    for number, (line, price, line_amount, points) in enumerate(kept, start=1):
        session.add(
            TransactionLine(
                transaction_id=transaction.id,
                line_number=number,
                product_id=line.product.id if line.product else None,
                quantity=line.quantity,
                unit_price=price,
                amount=line_amount,
                points=points if transaction_type.earns_points else Decimal(0),
            )
        )
        if line.product is not None:
            _add_purchase(session, member.id, line.product.id, line.quantity, occurred)
    for definition, value in (custom_fields or {}).items():
        set_transaction_custom_field(session, transaction, definition, value, at=when, log=False)
    log_change(
        session,
        ChangeKind.TRANSACTION,
        TransactionTrigger.POSTED,
        when,
        member_id=member.id,
        subject_id=transaction.id,
    )
    if earned != 0:
        post_ledger(
            session,
            member,
            LedgerKind.EARN,
            earned,
            when,
            transaction_id=transaction.id,
            location_id=transaction.location_id,
            description=transaction_type.name,
        )
    session.flush()
    return transaction


def cancel_transaction(
    session: Session,
    transaction: Transaction,
    *,
    reason: str | None = None,
    at: datetime | None = None,
) -> None:
    """Cancel a posted transaction: its points, bonuses and purchase quantities go back."""
    when = moment(at)
    if transaction.status != TransactionStatus.POSTED:
        raise ValidationError(
            {"transaction": f"Transaction {transaction.id} is already cancelled."}
        )
    checks = Checks()
    clean_reason = checks.text("reason", reason, 120)
    checks.done()
    member = session.get_one(Member, transaction.member_id)
    transaction.status = TransactionStatus.CANCELLED
    transaction.cancelled_at = when
    transaction.cancel_reason = clean_reason
    if transaction.points:
        post_ledger(
            session,
            member,
            LedgerKind.REVERSAL,
            -Decimal(str(transaction.points)),
            when,
            transaction_id=transaction.id,
            description="Transaction cancelled",
        )
    bonuses = session.scalars(
        select(TransactionBonus).where(
            TransactionBonus.transaction_id == transaction.id,
            TransactionBonus.cancelled_at.is_(None),
        )
    ).all()
    for bonus in bonuses:
        bonus.cancelled_at = when
        post_ledger(
            session,
            member,
            LedgerKind.REVERSAL,
            -Decimal(str(bonus.points)),
            when,
            transaction_id=transaction.id,
            bonus_id=bonus.id,
            description="Bonus cancelled",
        )
    quantities = session.execute(
        select(TransactionLine.product_id, func.sum(TransactionLine.quantity))
        .where(
            TransactionLine.transaction_id == transaction.id,
            TransactionLine.product_id.is_not(None),
        )
        .group_by(TransactionLine.product_id)
    ).all()
    for product_id, quantity in quantities:
        key = (MemberProductPurchase.member_id == member.id) & (
            MemberProductPurchase.product_id == product_id
        )
        session.execute(
            update(MemberProductPurchase)
            .where(key)
            .values(quantity=MemberProductPurchase.quantity - int(quantity))
        )
        session.execute(
            delete(MemberProductPurchase).where(key, MemberProductPurchase.quantity <= 0)
        )
    log_change(
        session,
        ChangeKind.TRANSACTION,
        TransactionTrigger.CANCELLED,
        when,
        member_id=member.id,
        subject_id=transaction.id,
    )
    session.flush()


def award_transactional_bonus(
    session: Session,
    transaction: Transaction,
    points: Decimal | int | str,
    *,
    promotion: Promotion | None = None,
    name: str | None = None,
    at: datetime | None = None,
) -> TransactionBonus:
    """Bonus points from a real-time transaction bonus promotion; writes ``BONS``."""
    when = moment(at)
    checks = Checks()
    amount = checks.amount("points", points, positive=True, allow_zero=False)
    clean_name = checks.text("name", name or (promotion.name if promotion else None), 120)
    if transaction.status != TransactionStatus.POSTED:
        checks.fail("transaction", f"Transaction {transaction.id} is cancelled.")
    checks.done()
    member = session.get_one(Member, transaction.member_id)
    check_member_writable(member)
    bonus = TransactionBonus(
        kind=BonusKind.TRANSACTIONAL,
        member_id=member.id,
        transaction_id=transaction.id,
        promotion_id=promotion.id if promotion else None,
        name=clean_name,
        points=amount,
        awarded_at=when,
    )
    session.add(bonus)
    session.flush()
    log_change(
        session,
        ChangeKind.TRANSACTION,
        TransactionTrigger.TRANSACTIONAL_BONUS,
        when,
        member_id=member.id,
        subject_id=bonus.id,
        subject2_id=transaction.id,
    )
    post_ledger(
        session,
        member,
        LedgerKind.BONUS,
        amount,
        when,
        transaction_id=transaction.id,
        bonus_id=bonus.id,
        location_id=transaction.location_id,
        description=clean_name,
    )
    return bonus


def apply_promo_code(
    session: Session,
    member: Member,
    code: str,
    *,
    transaction: Transaction | None = None,
    at: datetime | None = None,
) -> TransactionBonus:
    """A member enters a promo code: the promotion's bonus points, once per member."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    clean = checks.text("code", code, 40, required=True)
    checks.done()
    assert clean is not None
    promotion = session.scalar(
        select(Promotion).where(func.upper(Promotion.promo_code) == clean.upper())
    )
    if promotion is None or not promotion.bonus_points:
        raise ValidationError({"code": f"{clean!r} is not a promo code."})
    today = when.date()
    if promotion.starts_on > today or (promotion.ends_on is not None and promotion.ends_on < today):
        raise ValidationError({"code": f"Promo code {clean!r} is not valid on {today}."})
    if transaction is not None and (
        transaction.member_id != member.id or transaction.status != TransactionStatus.POSTED
    ):
        raise ValidationError(
            {"transaction": "The transaction is not this member's posted transaction."}
        )
    used = session.scalar(
        select(TransactionBonus.id).where(
            TransactionBonus.member_id == member.id,
            TransactionBonus.promotion_id == promotion.id,
            TransactionBonus.kind == BonusKind.PROMO_CODE,
            TransactionBonus.cancelled_at.is_(None),
        )
    )
    if used is not None:
        raise ValidationError({"code": f"Member {member.id} already used promo code {clean!r}."})
    points = Decimal(str(promotion.bonus_points))
    bonus = TransactionBonus(
        kind=BonusKind.PROMO_CODE,
        member_id=member.id,
        transaction_id=transaction.id if transaction else None,
        promotion_id=promotion.id,
        promo_code=promotion.promo_code,
        name=promotion.name[:120],
        points=points,
        awarded_at=when,
    )
    session.add(bonus)
    session.flush()
    log_change(
        session,
        ChangeKind.TRANSACTION,
        TransactionTrigger.PROMO_CODE_BONUS,
        when,
        member_id=member.id,
        subject_id=bonus.id,
        subject2_id=bonus.transaction_id,
    )
    post_ledger(
        session,
        member,
        LedgerKind.BONUS,
        points,
        when,
        transaction_id=bonus.transaction_id,
        bonus_id=bonus.id,
        description=f"Promo code {promotion.promo_code}",
    )
    return bonus
