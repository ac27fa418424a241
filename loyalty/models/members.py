"""Members and what hangs directly off a member: households, children, clubs.

A member row also carries three *maintained* values the member syncs export on every row
(primary account id, primary email, mobile phone). The contact services keep them up to
date in the same transaction as the change that moves them, so a bulk export reads one
row per member instead of evaluating the primary-account-id rule a million times; the
rule itself, as SQL, is in ``loyalty.primary``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
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
from loyalty.models.enums import Gender, MemberStatus


class Household(Base):
    """Members living together; one of them may be the head (``Member.is_household_head``)."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str | None] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("birth_month IS NULL OR birth_month BETWEEN 1 AND 12", name="birth_month"),
        CheckConstraint("birth_day IS NULL OR birth_day BETWEEN 1 AND 31", name="birth_day"),
        CheckConstraint(
            "offer_delivery IS NULL OR offer_delivery IN (1, 2)", name="offer_delivery"
        ),
        CheckConstraint(
            "message_delivery IS NULL OR message_delivery IN (1, 2)", name="message_delivery"
        ),
        # At most one head per household (a partial unique index works on both databases).
        Index(
            "uq_members_household_head",
            "household_id",
            unique=True,
            sqlite_where=text("is_household_head"),
            postgresql_where=text("is_household_head"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The program's own member reference (imports, CRM); optional.
    ext_ref: Mapped[str | None] = mapped_column(ExtRef, unique=True)
    prefix: Mapped[str | None] = mapped_column(Name)
    first_name: Mapped[str | None] = mapped_column(Name)
    middle_name: Mapped[str | None] = mapped_column(Name)
    last_name: Mapped[str | None] = mapped_column(Name)
    suffix: Mapped[str | None] = mapped_column(Name)
    # Member Extended writes year, month and day as three fields; any may be unknown.
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    birth_month: Mapped[int | None] = mapped_column(SmallInteger)
    birth_day: Mapped[int | None] = mapped_column(SmallInteger)
    gender: Mapped[Gender] = mapped_column(str_enum(Gender, "gender"), default=Gender.UNDEFINED)
    do_not_email: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_text: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_mail: Mapped[bool] = mapped_column(Boolean, default=False)
    # DeliveryMethod codes: 1 = Email, 2 = Text (Member Extended field 16, and the cut-off
    # field 17 that this project designs as the preferred method for other messages).
    offer_delivery: Mapped[int | None] = mapped_column(SmallInteger)
    message_delivery: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[MemberStatus] = mapped_column(
        str_enum(MemberStatus, "member_status"), default=MemberStatus.ACTIVE
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolment_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL")
    )
    enrolment_source: Mapped[str | None] = mapped_column(String(20))
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    is_household_head: Mapped[bool] = mapped_column(Boolean, default=False)
    # Maintained by the contact services (see the module docstring).
    primary_account_id: Mapped[str | None] = mapped_column(String(60))
    primary_email: Mapped[str | None] = mapped_column(String(254))
    mobile_phone: Mapped[str | None] = mapped_column(String(30))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def birthdate(self) -> date | None:
        if self.birth_year and self.birth_month and self.birth_day:
            return date(self.birth_year, self.birth_month, self.birth_day)
        return None

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.first_name!r} {self.last_name!r}>"


class MemberChild(Base):
    """A child recorded on a member's profile (Member Extended record type 11)."""

    __tablename__ = "member_children"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str | None] = mapped_column(Name)
    last_name: Mapped[str | None] = mapped_column(Name)
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[Gender] = mapped_column(
        str_enum(Gender, "child_gender"), default=Gender.UNDEFINED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Removed children stay, so a Member Child record can still describe what was removed.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Club(Base):
    __tablename__ = "clubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClubMembership(Base):
    """A member in a club (Member Extended record type 6). Leaving keeps the row."""

    __tablename__ = "club_memberships"
    __table_args__ = (UniqueConstraint("member_id", "club_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
