"""Transactions with their basket lines, types and bonuses.

Transactions are never deleted, only cancelled (the product's rule); a cancellation keeps
the row, marks it, and takes back its points and purchase quantities.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import Actor, BigId, ExtRef, Money, Name, Points
from loyalty.models.enums import BonusKind, TransactionStatus


class TransactionType(Base):
    __tablename__ = "transaction_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)
    description: Mapped[str | None] = mapped_column(String(255))
    # RFM counts only transactions of types that qualify (a setting per type).
    counts_for_rfm: Mapped[bool] = mapped_column(Boolean, default=True)
    earns_points: Mapped[bool] = mapped_column(Boolean, default=True)


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        Index("ix_transactions_member_occurred", "member_id", "occurred_at"),
        Index("ix_transactions_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    type_id: Mapped[int] = mapped_column(ForeignKey("transaction_types.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    # The point-of-sale reference (receipt number); not unique across locations.
    ext_ref: Mapped[str | None] = mapped_column(ExtRef)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Source date: the activity's date in its location's local time.
    source_date: Mapped[date] = mapped_column(Date)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    points: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))  # base points earned
    status: Mapped[TransactionStatus] = mapped_column(
        str_enum(TransactionStatus, "transaction_status"), default=TransactionStatus.POSTED
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(120))
    posted_by: Mapped[str | None] = mapped_column(Actor)


class TransactionLine(Base):
    """One basket line (product-level detail)."""

    __tablename__ = "transaction_lines"
    __table_args__ = (CheckConstraint("quantity <> 0", name="quantity_nonzero"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), index=True
    )
    line_number: Mapped[int] = mapped_column(SmallInteger)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    points: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))


class TransactionBonus(Base):
    """Bonus points from a real-time transaction bonus promotion, or from a promo code
    (which may come without a transaction, e.g. entered on the web portal)."""

    __tablename__ = "transaction_bonuses"
    __table_args__ = (
        CheckConstraint(
            "kind <> 'transactional' OR transaction_id IS NOT NULL", name="transactional_has_txn"
        ),
        CheckConstraint("kind <> 'promo_code' OR promo_code IS NOT NULL", name="promo_has_code"),
        Index("ix_transaction_bonuses_member_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[BonusKind] = mapped_column(str_enum(BonusKind, "bonus_kind"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), index=True
    )
    promotion_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotions.id", ondelete="SET NULL")
    )
    promo_code: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(120))
    points: Mapped[Decimal] = mapped_column(Points)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
