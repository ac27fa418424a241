"""Runs of a sync: the instance, the files it built, and one transfer per destination."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from webapp.models.syncs import Destination, Sync
from webapp.models.users import User


class Trigger(enum.StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class CreationStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The exporter had nothing to write and the type writes no empty file (e.g. Survey).
    NO_DATA = "no_data"
    # Cancelled by a person while it waited (webapp.services.run_actions).
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (
            CreationStatus.SUCCEEDED,
            CreationStatus.FAILED,
            CreationStatus.NO_DATA,
            CreationStatus.CANCELLED,
        )

    @property
    def label(self) -> str:
        """The word every page, the CLI and the e-mails use (webapp.services.run_status)."""
        return _CREATION_LABELS[self]


class TransferStatus(enum.StrEnum):
    PENDING = "pending"
    TRANSFERRING = "transferring"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Cancelled by a person while it waited or retried (webapp.services.run_actions).
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (TransferStatus.SUCCEEDED, TransferStatus.FAILED, TransferStatus.CANCELLED)

    @property
    def label(self) -> str:
        """The word every page, the CLI and the e-mails use (webapp.services.run_status)."""
        return _TRANSFER_LABELS[self]


# One vocabulary (issue 14, defect 9): "Created" for files, "Delivered" for transfers;
# never "Complete", "Completed" or "succeeded" on one page and another on the next.
_CREATION_LABELS = {
    CreationStatus.PENDING: "Waiting",
    CreationStatus.RUNNING: "Creating files",
    CreationStatus.SUCCEEDED: "Created",
    CreationStatus.FAILED: "Failed",
    CreationStatus.NO_DATA: "No data",
    CreationStatus.CANCELLED: "Cancelled",
}
_TRANSFER_LABELS = {
    TransferStatus.PENDING: "Waiting",
    TransferStatus.TRANSFERRING: "Sending",
    TransferStatus.RETRYING: "Retrying",
    TransferStatus.SUCCEEDED: "Delivered",
    TransferStatus.FAILED: "Failed",
    TransferStatus.CANCELLED: "Cancelled",
}


class RunOutcome(enum.StrEnum):
    """A run's combined status (its creation and its destinations' latest rounds), kept on
    the run so the Runs page can filter 100,000 runs by it with an index
    (webapp.services.run_status computes it on every flush that touches a run)."""

    WAITING = "waiting"
    RUNNING = "running"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    PARTLY_FAILED = "partly_failed"
    FAILED = "failed"
    NO_DATA = "no_data"
    CANCELLED = "cancelled"

    @property
    def is_failure(self) -> bool:
        return self in (RunOutcome.FAILED, RunOutcome.PARTLY_FAILED)


class FileRole(enum.StrEnum):
    ORIGINAL = "original"  # what the exporter wrote, before compression/encryption
    DELIVERABLE = "deliverable"  # what is sent to every destination


class SyncInstance(Base):
    """One run. ``(sync_id, scheduled_for)`` is unique, so a scheduled minute runs at most once."""

    __tablename__ = "sync_instances"
    __table_args__ = (
        UniqueConstraint("sync_id", "scheduled_for"),
        Index("ix_sync_instances_sync_created", "sync_id", "id"),
        Index("ix_sync_instances_status", "creation_status"),
        # The Runs page (newest first, by outcome; and "failures since yesterday").
        Index("ix_sync_instances_outcome_id", "outcome", "id"),
        Index("ix_sync_instances_trigger_id", "trigger", "id"),
        Index("ix_sync_instances_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("syncs.id", ondelete="CASCADE"))
    trigger: Mapped[Trigger] = mapped_column(str_enum(Trigger, "trigger"))
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Said on the run, e.g. "3 scheduled runs were missed while the service was down".
    note: Mapped[str | None] = mapped_column(String(500))
    creation_status: Mapped[CreationStatus] = mapped_column(
        str_enum(CreationStatus, "creation_status"), default=CreationStatus.PENDING
    )
    # The instant that names the files (the run's start, in the sync's zone when formatted).
    run_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    creation_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    creation_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows_written: Mapped[int | None] = mapped_column(BigInteger)
    row_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(80))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    watermark_from: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    watermark_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When the retention policy deleted this run's files (the rows and hashes stay).
    files_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Run 3" of its sync (the global id stays in URLs); from Sync.runs_created, at creation.
    sequence: Mapped[int | None] = mapped_column()
    outcome: Mapped[RunOutcome] = mapped_column(
        str_enum(RunOutcome, "run_outcome"), default=RunOutcome.WAITING, server_default="waiting"
    )

    sync: Mapped[Sync] = relationship(back_populates="instances")
    requested_by: Mapped[User | None] = relationship()
    files: Mapped[list[SyncFile]] = relationship(
        back_populates="instance", cascade="all, delete-orphan", order_by="SyncFile.id"
    )
    transfers: Mapped[list[Transfer]] = relationship(
        back_populates="instance", cascade="all, delete-orphan", order_by="Transfer.id"
    )

    @property
    def originals(self) -> list[SyncFile]:
        return [f for f in self.files if f.role == FileRole.ORIGINAL]

    @property
    def deliverables(self) -> list[SyncFile]:
        return [f for f in self.files if f.role == FileRole.DELIVERABLE]


class SyncFile(Base):
    """A file of a run, kept under EXPORT_DIR; ``path`` is relative to it and never user-given."""

    __tablename__ = "sync_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("sync_instances.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[FileRole] = mapped_column(str_enum(FileRole, "file_role"))
    # For a deliverable: the original it was made from.
    original_id: Mapped[int | None] = mapped_column(ForeignKey("sync_files.id", ondelete="CASCADE"))
    # The exporter's file kind (e.g. "issued_transactions"); "" for single-kind types.
    kind: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int | None] = mapped_column(BigInteger)

    instance: Mapped[SyncInstance] = relationship(back_populates="files")


class Transfer(Base):
    """Sending a run's deliverables to one destination. Round 1 is the run's own; re-transfers add rounds."""

    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("instance_id", "destination_id", "round"),
        # The Runs page filtered by destination.
        Index("ix_transfers_destination_instance", "destination_id", "instance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("sync_instances.id", ondelete="CASCADE"), index=True
    )
    destination_id: Mapped[int | None] = mapped_column(
        ForeignKey("destinations.id", ondelete="SET NULL"), index=True
    )
    # Kept so history still names a destination after it is deleted.
    destination_name: Mapped[str] = mapped_column(String(120))
    round: Mapped[int] = mapped_column(default=1)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[TransferStatus] = mapped_column(
        str_enum(TransferStatus, "transfer_status"), default=TransferStatus.PENDING
    )
    max_attempts: Mapped[int] = mapped_column(default=1)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[str | None] = mapped_column(String(80))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Fences uploads: the sweeper bumps it when it takes a transfer back from a worker it
    # believes dead; that worker, if it still runs, sees the change before its rename and
    # gives up (jobs.transfer), so a file never arrives twice or from a superseded attempt.
    attempt_token: Mapped[int] = mapped_column(default=0, server_default="0")

    instance: Mapped[SyncInstance] = relationship(back_populates="transfers")
    destination: Mapped[Destination | None] = relationship()
    attempts: Mapped[list[TransferAttempt]] = relationship(
        back_populates="transfer", cascade="all, delete-orphan", order_by="TransferAttempt.number"
    )


class TransferAttempt(Base):
    """One try of a transfer: when, how many bytes, and how it ended."""

    __tablename__ = "transfer_attempts"
    __table_args__ = (UniqueConstraint("transfer_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"))
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    succeeded: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(40))
    retryable: Mapped[bool | None] = mapped_column(Boolean)

    transfer: Mapped[Transfer] = relationship(back_populates="attempts")
