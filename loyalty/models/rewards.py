"""Reward types, issued rewards and every status change of an issued reward.

The event table is the reward's history (redeemed, reversed, redeemed again...): the Reward
Sync's record types 2-5 and 7 each describe one such event, and the change log points at
it, so a reward redeemed twice in a day yields two Redeemed records with their own times.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import Actor, BigId, ExtRef, Money, Points
from loyalty.models.enums import RewardEventKind, RewardMasterType, RewardStatus


class RewardCategory(Base):
    __tablename__ = "reward_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class RewardType(Base):
    __tablename__ = "reward_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # May be empty (Reward Type Sync example row 1); unique when given.
    ext_ref: Mapped[str | None] = mapped_column(ExtRef, unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("reward_categories.id"))
    master_type: Mapped[RewardMasterType] = mapped_column(
        str_enum(RewardMasterType, "reward_master_type")
    )
    retail_value: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # Points a member spends to get it (0 for rewards that are given, not bought).
    point_value: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    # Days an issued reward stays valid (None: no expiry).
    valid_days: Mapped[int | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reward(Base):
    """An issued reward. Values are copied from the type at issue: later type edits do not
    change what a member was given."""

    __tablename__ = "rewards"
    __table_args__ = (
        Index("ix_rewards_member_id", "member_id"),
        # The nightly expiry batch: active rewards past their last valid day.
        Index("ix_rewards_status_expires_on", "status", "expires_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    reward_type_id: Mapped[int] = mapped_column(ForeignKey("reward_types.id"))
    barcode: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[RewardStatus] = mapped_column(
        str_enum(RewardStatus, "reward_status"), default=RewardStatus.ACTIVE
    )
    retail_value: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    point_value: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL")
    )
    expires_on: Mapped[date | None] = mapped_column(Date)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RewardEvent(Base):
    __tablename__ = "reward_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reward_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rewards.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RewardEventKind] = mapped_column(str_enum(RewardEventKind, "reward_event_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    # Expiration Date Change: the dates before and after.
    previous_expires_on: Mapped[date | None] = mapped_column(Date)
    new_expires_on: Mapped[date | None] = mapped_column(Date)
    # Cancellation of a reward bought with points: the points given back.
    points_returned: Mapped[Decimal | None] = mapped_column(Points)
    actor: Mapped[str | None] = mapped_column(Actor)
