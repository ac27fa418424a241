"""The transfer job of a run: one attempt to send its deliverables to one destination.

``transfer`` takes an id only, loads its state from the database, re-checks the
permission of the user who asked for the work, and records the attempt; a retryable
delivery error schedules the next attempt (the tick enqueues it when its back-off has
passed), and an unexpected error marks the transfer failed and is re-raised (so RQ's
failed registry keeps the traceback too).
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update

from delivery.errors import DeliveryError
from delivery.transports import Endpoint, open_transport
from jobs.context import job_context
from jobs.deadlines import run_settled
from jobs.failures import describe
from jobs.heartbeat import Heartbeat
from jobs.notify import notify_failure
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.runs import FileRole, Transfer, TransferAttempt, TransferStatus
from webapp.models.syncs import Destination
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
    attempt = TransferAttempt(transfer_id=row.id, number=len(row.attempts) + 1, started_at=utcnow())
    db.session.add(attempt)
    row.status = TransferStatus.TRANSFERRING
    row.started_at = row.started_at or attempt.started_at
    row.heartbeat_at = attempt.started_at
    row.next_attempt_at = None
    row.bytes_total = sum(f.size for f in files)
    row.bytes_sent = 0
    db.session.commit()
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
        connection.execute(
            update(Transfer).where(Transfer.id == row.id).values(heartbeat_at=utcnow())
        )

    try:
        with Heartbeat(app, beat), open_transport(endpoint_for(destination)) as transport:
            for sync_file in files:
                local = export_root / sync_file.path
                transport.upload(
                    local,
                    sync_file.name,
                    progress=report,
                    overwrite=True,
                    temp_token=f"t{row.id}",  # a retry replaces a cut attempt's leftover
                )
                sent_before += sync_file.size
    except DeliveryError as exc:
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
        attempt = db.session.get(TransferAttempt, attempt.id) or attempt
        row = db.session.get(Transfer, row.id) or row
        attempt.error, attempt.error_kind, attempt.retryable = describe(exc), "internal", False
        finish_transfer(row, attempt, TransferStatus.FAILED, describe(exc))
        raise
    attempt.bytes_sent = sent_before
    finish_transfer(row, attempt, TransferStatus.SUCCEEDED, None)
    return "succeeded"


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
