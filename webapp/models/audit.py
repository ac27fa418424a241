"""The audit log: who did what to which object, when, and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One recorded action. Rows are only ever inserted.

    ``actor`` is kept as text next to the user id so that the log still says who acted
    after a user is deleted, and names non-human actors (``cli:root``, ``scheduler``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_sync_at", "sync_id", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    sync_id: Mapped[int | None]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
