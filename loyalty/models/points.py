"""Points: the ledger (every movement), the balance (its running sum) and the projections
of points due to expire in the coming cycles.

The ledger is the truth; ``point_balances`` is maintained by the point services in the
same transaction so exports and checks never sum a member's whole history.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import BigId, Points
from loyalty.models.enums import LedgerKind


class PointBalance(Base):
    __tablename__ = "point_balances"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    balance: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    lifetime_earned: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    lifetime_redeemed: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    lifetime_expired: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointLedgerEntry(Base):
    """One movement of points; positive entries carry the date their points expire."""

    __tablename__ = "point_ledger"
    __table_args__ = (
        Index("ix_point_ledger_member_occurred", "member_id", "occurred_at"),
        CheckConstraint("points <> 0", name="points_nonzero"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[LedgerKind] = mapped_column(str_enum(LedgerKind, "ledger_kind"))
    points: Mapped[Decimal] = mapped_column(Points)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_on: Mapped[date | None] = mapped_column(Date)
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), index=True
    )
    bonus_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("transaction_bonuses.id", ondelete="SET NULL")
    )
    reward_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("rewards.id", ondelete="SET NULL")
    )
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    description: Mapped[str | None] = mapped_column(String(120))


class PointExpirationProjection(Base):
    """Points projected to expire in expiration cycle ``cycle`` (1 = the next one).

    Rewritten per member by the batch projection (``services.loyalty.points``); the
    Member Future Point Expiration Sync writes one column per cycle, named after the
    cycle's ``expires_on``, and ``processed_at`` as its Future Expiration Process Date.
    Only cycles with points are stored (an absent cycle is 0).
    """

    __tablename__ = "point_expiration_projections"
    __table_args__ = (
        CheckConstraint("cycle BETWEEN 1 AND 12", name="cycle_range"),
        # "Only members with points expiring next period": cycle 1 by member.
        Index("ix_point_expiration_projections_cycle", "cycle", "member_id"),
    )

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    cycle: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    expires_on: Mapped[date] = mapped_column(Date)
    points: Mapped[Decimal] = mapped_column(Points)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)
