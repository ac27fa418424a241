"""Customer-service cases and every event on them (the Case Sync's event stream).

Each event records the user handling the case at that moment, so the Case Updates File can
write who held the case when it changed even after it was reassigned.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import Actor, BigId, ExtRef, Name
from loyalty.models.enums import CaseAction, CaseStatus


class CaseCategory(Base):
    __tablename__ = "case_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)


class CaseQueue(Base):
    __tablename__ = "case_queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("case_categories.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("case_queues.id"))
    status: Mapped[CaseStatus] = mapped_column(
        str_enum(CaseStatus, "case_status"), default=CaseStatus.OPEN
    )
    assigned_user: Mapped[str | None] = mapped_column(Actor)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseEvent(Base):
    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_occurred", "case_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    action: Mapped[CaseAction] = mapped_column(str_enum(CaseAction, "case_action"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The user handling the case when the event happened (Case Sync field "User").
    user_name: Mapped[str | None] = mapped_column(Actor)
    descriptor_id: Mapped[int | None] = mapped_column(
        ForeignKey("descriptors.id", ondelete="SET NULL")
    )
    category_id: Mapped[int | None] = mapped_column(ForeignKey("case_categories.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("case_queues.id"))
    note: Mapped[str | None] = mapped_column(String(500))


class CaseDescriptor(Base):
    """A descriptor attached to a case (Added / Removed Descriptor events)."""

    __tablename__ = "case_descriptors"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    descriptor_id: Mapped[int] = mapped_column(
        ForeignKey("descriptors.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
