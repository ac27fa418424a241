"""Member descriptors (tags) and their assignments, which may expire "end of day".

An assignment is a row while it holds; removing or expiring it deletes the row (the change
log keeps what happened), so the cumulative Member Descriptor Sync is a plain scan of
``descriptor_assignments`` by descriptor.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow
from loyalty.models._types import ExtRef, Name


class Descriptor(Base):
    __tablename__ = "descriptors"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)
    # Default expiry of new assignments in days (None: they do not expire).
    default_expiry_days: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DescriptorAssignment(Base):
    __tablename__ = "descriptor_assignments"
    __table_args__ = (
        UniqueConstraint("member_id", "descriptor_id"),
        Index("ix_descriptor_assignments_descriptor_member", "descriptor_id", "member_id"),
        Index("ix_descriptor_assignments_expires_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    descriptor_id: Mapped[int] = mapped_column(ForeignKey("descriptors.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Last day the assignment holds; the first batch after that day removes it.
    expires_on: Mapped[date | None] = mapped_column(Date)
    # "manual", "import" (import assignments never expire), "ranking", "batch"...
    source: Mapped[str] = mapped_column(String(20), default="manual")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
