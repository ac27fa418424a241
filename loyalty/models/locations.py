"""Locations (stores, sites, the web shop) with the details the Location Sync can export.

``valid_for_feedback`` is stored with the sync column's polarity
(``LocationIsValidForFeedback``); the app's checkbox "Location is Invalid for Feedback" is
its negation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow
from loyalty.models._types import ExtRef


class BusinessUnit(Base):
    __tablename__ = "business_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class PosCategory(Base):
    __tablename__ = "pos_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_for_feedback: Mapped[bool] = mapped_column(Boolean, default=True)
    business_unit_id: Mapped[int] = mapped_column(ForeignKey("business_units.id"))
    pos_category_id: Mapped[int | None] = mapped_column(
        ForeignKey("pos_categories.id", ondelete="SET NULL")
    )
    country_name: Mapped[str | None] = mapped_column(String(120))
    country_abbr: Mapped[str | None] = mapped_column(String(2))
    address1: Mapped[str | None] = mapped_column(String(120))
    address2: Mapped[str | None] = mapped_column(String(120))
    address3: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(120))
    region_name: Mapped[str | None] = mapped_column(String(120))
    region_abbr: Mapped[str | None] = mapped_column(String(8))
    postal_code: Mapped[str | None] = mapped_column(String(14))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    # IANA zone: source dates of the location's activity are local to it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
