"""How a member is identified and reached: account ids, emails, phones, addresses.

Account ids carry the primary-account-id rule (sync-platform.md section 9): their type's
Rank for Display (1 = the primary rank), their status, and when they were added.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import ExtRef, Name
from loyalty.models.enums import AccountIdStatus, AddressType, PhoneType


class AccountIdType(Base):
    """An Id Type (loyalty card, app id, legacy card...) and its Rank for Display."""

    __tablename__ = "account_id_types"
    __table_args__ = (CheckConstraint("display_rank >= 1", name="display_rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)
    # 1 is the primary rank; larger numbers rank lower (see enums.PRIMARY_RANK).
    display_rank: Mapped[int] = mapped_column(SmallInteger, default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountId(Base):
    """One account id (card number...) of a member. Ids are unique in the program and never
    reused, so a deactivated id keeps its row."""

    __tablename__ = "account_ids"
    __table_args__ = (Index("ix_account_ids_member_status", "member_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    type_id: Mapped[int] = mapped_column(ForeignKey("account_id_types.id"))
    value: Mapped[str] = mapped_column(String(60), unique=True)
    status: Mapped[AccountIdStatus] = mapped_column(
        str_enum(AccountIdStatus, "account_id_status"), default=AccountIdStatus.ACTIVE
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MemberEmail(Base):
    __tablename__ = "member_emails"
    __table_args__ = (
        Index(
            "uq_member_emails_primary",
            "member_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
        Index("ix_member_emails_member_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberPhone(Base):
    """At most one number per phone type; the mobile one is the layouts' "Mobile Phone".

    ``number`` is stored as displayed (e.g. ``+54 (0341) 123-4567`` in international mode),
    because the syncs export phone numbers exactly as the app shows them.
    """

    __tablename__ = "member_phones"
    __table_args__ = (UniqueConstraint("member_id", "phone_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    phone_type: Mapped[PhoneType] = mapped_column(str_enum(PhoneType, "phone_type"))
    number: Mapped[str] = mapped_column(String(30))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberAddress(Base):
    """At most one address per type; the primary one is what member syncs export."""

    __tablename__ = "member_addresses"
    __table_args__ = (
        UniqueConstraint("member_id", "address_type"),
        Index(
            "uq_member_addresses_primary",
            "member_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    address_type: Mapped[AddressType] = mapped_column(str_enum(AddressType, "address_type"))
    line1: Mapped[str] = mapped_column(String(120))
    line2: Mapped[str | None] = mapped_column(String(120))
    line3: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(8))  # abbreviation, e.g. "ON", "CA"
    postal_code: Mapped[str | None] = mapped_column(String(14))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
