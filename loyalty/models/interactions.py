"""Member interactions (system or user events such as "Email Added"), their types, and the
events (e.g. a trade show) an interaction can be assigned to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow
from loyalty.models._types import Actor, ExtRef


class InteractionType(Base):
    __tablename__ = "interaction_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class InteractionEvent(Base):
    __tablename__ = "interaction_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str | None] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_member_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    type_id: Mapped[int] = mapped_column(ForeignKey("interaction_types.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("interaction_events.id", ondelete="SET NULL")
    )
    # Interaction Timestamp: when it was posted (UTC).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Issue Audit User: the user or process that created it.
    audit_user: Mapped[str] = mapped_column(Actor)
    note: Mapped[str | None] = mapped_column(String(255))
