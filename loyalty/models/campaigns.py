"""Campaigns and promotions and the members in each (Campaign / Promotion Member Syncs).

Memberships have a join date and an optional expiry date; leaving deletes the row, so
the cumulative syncs are plain scans by campaign or promotion.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow
from loyalty.models._types import ExtRef, Points


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignMember(Base):
    __tablename__ = "campaign_members"
    __table_args__ = (Index("ix_campaign_members_member_id", "member_id"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    joined_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)


class Promotion(Base):
    """A promotion; one with a ``promo_code`` awards ``bonus_points`` when a member enters
    the code, one without may award transactional bonuses."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    promo_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    bonus_points: Mapped[Decimal | None] = mapped_column(Points)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PromotionMember(Base):
    __tablename__ = "promotion_members"
    __table_args__ = (Index("ix_promotion_members_member_id", "member_id"),)

    promotion_id: Mapped[int] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    joined_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
