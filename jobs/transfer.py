"""The transfer job of a run: one attempt to send its deliverables to one destination.

``transfer`` takes an id only, loads its state from the database, re-checks the
permission of the user who asked for the work, and records the attempt; a retryable
delivery error schedules the next attempt (the tick enqueues it when its back-off has
passed), and an unexpected error marks the transfer failed and is re-raised (so RQ's
failed registry keeps the traceback too).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from delivery import markers
from delivery.errors import DeliveryError
from delivery.transports import Endpoint, Superseded, Transport, open_transport
from jobs.context import job_context, superseded_job
from jobs.deadlines import run_settled
from jobs.failures import describe
from jobs.heartbeat import Heartbeat
from jobs.notify import notify_failure
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.runs import (
    FileRole,
    SyncFile,
    SyncInstance,
    Transfer,
    TransferAttempt,
    TransferStatus,
)
from webapp.models.syncs import Destination, Marker
from webapp.models.users import User
from webapp.services import audit, progress
from webapp.services.destinations import password_of, private_key_of
from webapp.services.permissions import SYNC_RUN, has_permission


def transfer(transfer_id: int) -> str:
    """One attempt to send a run's deliverables to one destination."""
    with job_context() as app:
        row = db.session.get(Transfer, transfer_id)
        if row is None:
            return "gone"
        if TransferStatus(row.status).is_final:
            return f"already {row.status}"
        if superseded_job(row.job_id):
            return "superseded job"  # the sweep re-queued it under another id
        refusal = _transfer_refusal(row)
        if refusal is not None:
            finish_transfer(row, None, TransferStatus.FAILED, refusal, action="transfer.refused")
            return "refused"
        return _attempt(app, row)


def _transfer_refusal(row: Transfer) -> str | None:
    if row.requested_by_id is not None:
        user = db.session.get(User, row.requested_by_id)
        if user is None or not has_permission(user, SYNC_RUN):
            who = user.email if user else f"user #{row.requested_by_id}"
            return f"Refused: {who} no longer has the permission to transfer this sync's files."
    if row.destination is None:
        return "The destination was deleted."
    return None


def endpoint_for(destination: Destination, timeout: float = 30.0) -> Endpoint:
    return Endpoint(
        protocol=str(destination.protocol),
        host=destination.host,
        port=destination.port,
        directory=destination.directory or "",
        username=destination.username,
        password=password_of(destination),
        private_key=private_key_of(destination),
        host_key_fingerprint=destination.host_key_fingerprint,
        host_key_type=destination.host_key_type,
        tls_fingerprint=destination.tls_fingerprint,
        timeout=timeout,
    )


def _attempt(app: Flask, row: Transfer) -> str:
    destination = row.destination
    assert destination is not None
    instance = row.instance
    files = [f for f in instance.files if f.role == FileRole.DELIVERABLE]
    export_root = Path(app.config["EXPORT_DIR"])
    # Claim the row atomically (issue 14): a person may have cancelled it, or another
    # job of it started, since it was loaded; then this job does nothing.
    claimed = (
        db.session.connection()
        .execute(
            update(Transfer)
            .where(
                Transfer.id == row.id,
                Transfer.status.in_((TransferStatus.PENDING, TransferStatus.RETRYING)),
                Transfer.attempt_token == row.attempt_token,
            )
            .values(status=TransferStatus.TRANSFERRING)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    if not claimed:
        db.session.rollback()
        return "moved on"
    attempt = TransferAttempt(transfer_id=row.id, number=len(row.attempts) + 1, started_at=utcnow())
    db.session.add(attempt)
    row.status = TransferStatus.TRANSFERRING
    row.started_at = row.started_at or attempt.started_at
    row.heartbeat_at = attempt.started_at
    row.next_attempt_at = None
    row.bytes_total = sum(f.size for f in files)
    row.bytes_sent = 0
    # This attempt's fence (see Transfer.attempt_token): the sweeper bumps the token when
    # it takes the transfer back, and this attempt then renames nothing.
    token = row.attempt_token
    db.session.commit()
    transfer_id, attempt_number = row.id, attempt.number
    progress.publish("transfer", row.id, sent=0, total=row.bytes_total, status="transferring")

    sent_before = 0
    last_publish = [0.0]

    def report(sent: int, _total: int) -> None:
        if time.monotonic() - last_publish[0] > 0.25:
            last_publish[0] = time.monotonic()
            progress.publish(
                "transfer",
                row.id,
                sent=sent_before + sent,
                total=row.bytes_total,
                status="transferring",
            )

    def beat(connection: Any) -> None:
        # Only while this attempt owns the transfer: a superseded one must not keep the
        # new attempt's row looking alive.
        connection.execute(
            update(Transfer)
            .where(Transfer.id == row.id, Transfer.attempt_token == token)
            .values(heartbeat_at=utcnow())
        )

    def still_current() -> bool:
        # Its own connection: the job's session must not hold a transaction across the
        # upload, and a database that does not answer raises (no rename then).
        with db.engine.connect() as connection:
            current = connection.scalar(select(Transfer.attempt_token).where(Transfer.id == row.id))
        return current == token

    temp_token = _temp_token(row.id, token)
    leftovers = (_temp_token(row.id, token - 1),) if token else ()
    try:
        # Inside the try: a template that makes no valid name fails the transfer in words.
        marker = completion_marker(destination, instance, files)
        with Heartbeat(app, beat), open_transport(endpoint_for(destination)) as transport:
            if marker is not None:
                # An earlier transfer's marker says "complete" while this one replaces the
                # files: it goes first, and comes back only after the last file is in place.
                transport.remove_if_present(marker[0])
            for sync_file in files:
                local = export_root / sync_file.path
                transport.upload(
                    local,
                    sync_file.name,
                    progress=report,
                    overwrite=True,
                    # A retry of the same token replaces a cut attempt's leftover; after a
                    # takeover the token differs, so two attempts never share a temporary
                    # file, and the new one removes the old one's.
                    temp_token=temp_token,
                    leftover_tokens=leftovers,
                    still_current=still_current,
                )
                sent_before += sync_file.size
            if marker is not None:
                _upload_marker(transport, marker, temp_token, leftovers, still_current)
    except Superseded:
        # The sweeper gave this transfer to another attempt while this one still ran (its
        # heartbeat could not reach the database): that attempt owns the row now.
        return _superseded(app, transfer_id, attempt_number)
    except DeliveryError as exc:
        if not _current_or_unknown(still_current):
            # Superseded while it failed (the new attempt removed this one's temporary
            # file, say): the new attempt owns the row, whatever this one saw.
            return _superseded(app, transfer_id, attempt_number)
        attempt.bytes_sent = sent_before
        attempt.error, attempt.error_kind, attempt.retryable = (
            exc.message,
            str(exc.kind),
            exc.retryable,
        )
        if exc.retryable and attempt.number < row.max_attempts:
            backoff = list(app.config["TRANSFER_BACKOFF_SECONDS"])
            delay = backoff[min(attempt.number - 1, len(backoff) - 1)]
            finish_transfer(row, attempt, TransferStatus.RETRYING, exc.message, retry_in=delay)
            return "retrying"
        finish_transfer(row, attempt, TransferStatus.FAILED, exc.message)
        return "failed"
    except Exception as exc:
        db.session.rollback()
        if not _current_or_unknown(still_current):
            return _superseded(app, transfer_id, attempt_number)
        attempt = db.session.get(TransferAttempt, attempt.id) or attempt
        row = db.session.get(Transfer, row.id) or row
        attempt.error, attempt.error_kind, attempt.retryable = describe(exc), "internal", False
        finish_transfer(row, attempt, TransferStatus.FAILED, describe(exc))
        raise
    attempt.bytes_sent = sent_before
    finish_transfer(row, attempt, TransferStatus.SUCCEEDED, None)
    return "succeeded"


def completion_marker(
    destination: Destination, instance: SyncInstance, files: list[SyncFile]
) -> tuple[str, bytes] | None:
    """The destination's completion marker for this run (name, bytes), or None (off)."""
    kind = Marker(destination.marker or Marker.NONE)
    if kind is Marker.NONE or not files:
        return None
    facts = markers.RunFacts(
        run_id=instance.id,
        sync_id=instance.sync_id,
        sync_name=instance.sync.name,
        created_at=instance.creation_finished_at or instance.created_at,
        files=tuple(markers.MarkerFile(f.name, f.size, f.sha256, f.rows) for f in files),
    )
    return markers.build(kind.value, facts, destination.marker_name)


def _upload_marker(
    transport: Transport,
    marker: tuple[str, bytes],
    temp_token: str,
    leftovers: tuple[str, ...],
    still_current: Callable[[], bool],
) -> None:
    """Upload the marker last, through the same temporary name, check and fence as the files."""
    name, content = marker
    with tempfile.TemporaryDirectory(prefix="lsync-marker-") as work:
        local = Path(work) / "marker"
        local.write_bytes(content)
        transport.upload(
            local,
            name,
            overwrite=True,
            temp_token=temp_token,
            leftover_tokens=leftovers,
            still_current=still_current,
        )


def _superseded(app: Flask, transfer_id: int, attempt_number: int) -> str:
    db.session.rollback()
    app.logger.warning(
        "transfer %s: attempt %s was superseded by the sweeper; nothing renamed or recorded",
        transfer_id,
        attempt_number,
    )
    return "superseded"


def _current_or_unknown(still_current: Any) -> bool:
    """False only when the database says another attempt owns the transfer."""
    try:
        return bool(still_current())
    except Exception:
        return True  # cannot tell: record the failure as before


def _temp_token(transfer_id: int, attempt_token: int) -> str:
    return f"t{transfer_id}" if attempt_token == 0 else f"t{transfer_id}-{attempt_token}"


def finish_transfer(
    row: Transfer,
    attempt: TransferAttempt | None,
    status: TransferStatus,
    error: str | None,
    retry_in: float | None = None,
    action: str | None = None,
) -> None:
    now = utcnow()
    if attempt is not None:
        attempt.finished_at = now
        attempt.succeeded = status == TransferStatus.SUCCEEDED
    row.status = status
    row.error = error
    row.bytes_sent = attempt.bytes_sent if attempt is not None else 0
    if status == TransferStatus.RETRYING:
        row.next_attempt_at = now + timedelta(seconds=retry_in or 0)
    else:
        row.finished_at = now
    audit.record(
        action or f"transfer.{status.value}",
        obj=row,
        sync_id=row.instance.sync_id,
        detail={
            "destination": row.destination_name,
            "attempt": attempt.number if attempt else 0,
            "error": error,
        },
        actor="worker",
    )
    db.session.commit()
    progress.publish(
        "transfer", row.id, sent=row.bytes_sent, total=row.bytes_total, status=status.value
    )
    if status == TransferStatus.FAILED:
        notify_failure(row.instance, error or "failed", transfer=row)
    if status.is_final:
        run_settled(row.instance)
