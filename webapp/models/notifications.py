"""Notification state: delivery deadlines, webhooks and their delivery log, expiry warnings.

Each "tell someone once" rule is a unique constraint, like the scheduled-minute uniqueness
of runs: a second scheduler or a repeated tick inserts the same row, loses the race on the
constraint, and sends nothing.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, UTCDateTime, str_enum, utcnow


class DeadlineCheck(Base):
    """The delivery deadline of one sync on one local day, judged once.

    Written when the deadline passes: ``late_at`` set means the alert went out (and the
    console shows the sync late until ``recovered_at``); ``late_at`` empty means the day's
    run had delivered everywhere in time. ``(sync_id, day)`` is unique, so the alert goes
    out once however many ticks or schedulers see the deadline pass.
    """

    __tablename__ = "deadline_checks"
    __table_args__ = (UniqueConstraint("sync_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("syncs.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)  # the local date of the run's execution slot
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)  # that day's execution time
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    late_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was late, in words ("file creation failed", "still retrying Partner B", ...).
    reason: Mapped[str | None] = mapped_column(String(500))
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recovered_by_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_instances.id", ondelete="SET NULL")
    )


class WebhookEvent(enum.StrEnum):
    FAILED = "failed"  # file creation failed, or every destination failed
    PARTLY_FAILED = "partly_failed"  # some destinations failed, others received the files
    LATE = "late"  # the delivery deadline passed
    RECOVERED = "recovered"  # a run delivered everywhere after a late alert
    DELIVERED = "delivered"  # every destination received the files (opt-in)
    EXPIRING = "expiring"  # a key or certificate expires within 30 or 7 days
    TEST = "test"  # "Send test"


DEFAULT_EVENTS = [
    WebhookEvent.FAILED.value,
    WebhookEvent.PARTLY_FAILED.value,
    WebhookEvent.LATE.value,
    WebhookEvent.RECOVERED.value,
]


class Webhook(Base):
    """An HTTP(S) endpoint told about a sync's runs (``sync_id``) or every sync's (global)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_id: Mapped[int | None] = mapped_column(
        ForeignKey("syncs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000))
    # Fernet token (services.secrets) of the HMAC key; shown once when created, never again.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="webhook",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WebhookDelivery.id.desc()",
    )

    def __repr__(self) -> str:  # no secret here, ever
        return f"<Webhook {self.id} {self.url}>"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(Base):
    """One event sent to one webhook: the exact body, and every attempt (the delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # One delivery per claim: two transfers of a run that settle at the same moment
        # both try to send the run's outcome; the second insert loses here, sends nothing.
        UniqueConstraint("webhook_id", "claim"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    sync_id: Mapped[int | None]
    instance_id: Mapped[int | None]
    # What this delivery is the one of (e.g. "run:7:settled:42"); None = no uniqueness.
    claim: Mapped[str | None] = mapped_column(String(120))
    # The JSON body as sent (signed bytes): retries send exactly these bytes again.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    max_attempts: Mapped[int] = mapped_column(default=5)
    # [{"at": iso, "status_code": int | None, "error": str | None, "seconds": float}, ...]
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")


class ExpiryWarning(Base):
    """One warning that a key or certificate expires within ``threshold_days`` (30 or 7).

    ``subject`` names the thing (``recipient_key:<fingerprint>``,
    ``ftps_certificate:<destination id>:<sha256>``, ``signing_key:<fingerprint>``); with
    its ``expires_at`` in the unique key, a renewed key with a new expiry warns again.
    """

    __tablename__ = "expiry_warnings"
    __table_args__ = (UniqueConstraint("sync_id", "subject", "expires_at", "threshold_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("syncs.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(500))  # what the console and the mail say
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    threshold_days: Mapped[int]
    warned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
