"""The two jobs of a run: build its files, and send them to one destination.

Both take ids only, load their state from the database, re-check the permission of the
user who asked for the work, record what happened, and re-raise unexpected errors after
marking the row failed (so RQ's failed registry keeps the traceback too).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

import exporters
from delivery.errors import DeliveryError
from delivery.packaging import PackageSpec, digest, package
from delivery.transports import Endpoint, open_transport
from exporters.base import ExportContext, ExportResult
from jobs import lease
from jobs.context import job_context
from jobs.heartbeat import Heartbeat
from jobs.notify import notify_failure
from loyalty.db import utcnow
from loyalty.engine import read_snapshot
from webapp.extensions import db
from webapp.models.runs import (
    CreationStatus,
    FileRole,
    SyncFile,
    SyncInstance,
    Transfer,
    TransferAttempt,
    TransferStatus,
    Trigger,
)
from webapp.models.syncs import Compression, Destination, Encryption, Sync
from webapp.models.users import User
from webapp.services import audit, dispatch, progress
from webapp.services.destinations import password_of, private_key_of
from webapp.services.permissions import SYNC_RUN, has_permission
from webapp.services.runs import create_transfers


def run_dir(app: Flask, instance: SyncInstance) -> Path:
    return Path(app.config["EXPORT_DIR"]) / f"sync-{instance.sync_id}" / f"run-{instance.id}"


# ---------------------------------------------------------------- build


def create_files(instance_id: int) -> str:
    """Build one run's files: export in one read snapshot, package, record, fan out."""
    with job_context() as app:
        instance = db.session.get(SyncInstance, instance_id)
        if instance is None:
            return "gone"
        if instance.creation_status != CreationStatus.PENDING:
            return f"already {instance.creation_status}"
        sync = instance.sync
        refusal = _build_refusal(instance, sync)
        if refusal is not None:
            _fail_build(instance, refusal, action="run.refused")
            return "refused"
        stale = timedelta(seconds=app.config["HEARTBEAT_STALE_SECONDS"])
        if not lease.acquire(db.session.connection(), sync.id, instance.id, stale):
            db.session.refresh(sync)
            instance.note = (
                f"Waiting for run #{sync.build_lease_instance_id} of this sync to finish building."
            )
            db.session.commit()
            return "waiting"
        db.session.commit()
        try:
            return _build(app, instance, sync)
        finally:
            _start_next_waiting(sync.id)


def _build_refusal(instance: SyncInstance, sync: Sync) -> str | None:
    if instance.trigger == Trigger.SCHEDULED and not sync.enabled:
        return "The sync was disabled before this scheduled run started."
    if instance.requested_by_id is not None:
        user = db.session.get(User, instance.requested_by_id)
        if user is None or not has_permission(user, SYNC_RUN):
            who = user.email if user else f"user #{instance.requested_by_id}"
            return f"Refused: {who} no longer has the permission to run this sync."
    if sync.type_key not in exporters.registry():
        return f"Sync type {sync.type_key!r} is not available in this version."
    return None


def _build(app: Flask, instance: SyncInstance, sync: Sync) -> str:
    sync_type = exporters.get(sync.type_key)
    now = utcnow()
    instance.creation_status = CreationStatus.RUNNING
    instance.creation_started_at = now
    instance.run_started_at = instance.run_started_at or now
    instance.heartbeat_at = now
    instance.note = None
    instance.error = None
    instance.watermark_from = sync.watermark
    db.session.commit()
    progress.publish("instance", instance.id, phase="exporting", rows=0)

    folder = run_dir(app, instance)
    shutil.rmtree(folder, ignore_errors=True)  # leftovers of a killed attempt of this run
    originals_dir, deliverables_dir = folder / "original", folder / "deliverable"
    originals_dir.mkdir(parents=True)
    deliverables_dir.mkdir()

    def beat(connection: Any) -> None:
        connection.execute(
            update(SyncInstance).where(SyncInstance.id == instance.id).values(heartbeat_at=utcnow())
        )
        lease.beat(connection, sync.id, instance.id)

    last_publish = [0.0]

    def report(rows: int) -> None:
        if time.monotonic() - last_publish[0] > 0.5:
            last_publish[0] = time.monotonic()
            progress.publish("instance", instance.id, phase="exporting", rows=rows)

    try:
        with Heartbeat(app, beat):
            with read_snapshot(db.engine) as connection:
                result = export_sync(
                    app,
                    sync,
                    connection,
                    originals_dir,
                    instance.run_started_at or now,
                    instance_id=instance.id,
                    name_taken=lambda name: _name_taken(sync.id, instance.id, name),
                    report=report,
                )
            progress.publish("instance", instance.id, phase="packaging", rows=result.rows)
            records = _package(app, sync, result, originals_dir, deliverables_dir)
        _commit_created(
            instance, sync, sync_type.semantics.reads_watermark, result, records, folder
        )
    except Exception as exc:
        db.session.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        _fail_build(db.session.get(SyncInstance, instance.id) or instance, _describe(exc))
        raise
    progress.publish("instance", instance.id, phase="done", rows=result.rows)
    status = instance.creation_status
    if status == CreationStatus.SUCCEEDED:
        for transfer in list(instance.transfers):
            dispatch.enqueue_transfer(transfer)
        db.session.commit()
    return str(status)


def export_sync(
    app: Flask,
    sync: Sync,
    connection: Connection,
    out_dir: Path,
    run_started_at: datetime,
    instance_id: int | None = None,
    name_taken: Callable[[str], bool] = lambda _name: False,
    report: Callable[[int], None] = lambda _rows: None,
) -> ExportResult:
    """Run the sync's exporter on ``connection`` (inside a read snapshot) into ``out_dir``."""
    sync_type = exporters.get(sync.type_key)
    session = Session(bind=connection)
    try:
        context = ExportContext(
            session=session,
            sync_id=sync.id,
            instance_id=instance_id,
            scope=dict(sync.scope or {}),
            options={**sync_type.default_options(), **(sync.options or {})},
            run_started_at=run_started_at,
            timezone=sync.timezone,
            out_dir=out_dir,
            watermark=sync.watermark,
            database_number=int(app.config["DATABASE_NUMBER"]),
            database_timezone=app.config["DATABASE_TIMEZONE"],
            corporate_timezone=app.config["CORPORATE_TIMEZONE"],
            name_taken=name_taken,
            progress=report,
        )
        result: ExportResult = sync_type.export(context)
        return result
    finally:
        session.close()


def export_once(sync: Sync, out_dir: Path) -> ExportResult:
    """The files one run would build now, written to ``out_dir``; nothing is recorded."""
    with job_context() as app, read_snapshot(db.engine) as connection:
        return export_sync(app, sync, connection, out_dir, utcnow())


def _name_taken(sync_id: int, instance_id: int, name: str) -> bool:
    """True when an earlier run of the sync already created a file of this name."""
    return (
        db.session.scalar(
            select(SyncFile.id)
            .join(SyncInstance, SyncFile.instance_id == SyncInstance.id)
            .where(
                SyncInstance.sync_id == sync_id,
                SyncInstance.id != instance_id,
                SyncFile.role == FileRole.ORIGINAL,
                SyncFile.name == name,
            )
            .limit(1)
        )
        is not None
    )


def _package(
    app: Flask, sync: Sync, result: ExportResult, originals_dir: Path, deliverables_dir: Path
) -> list[tuple[Any, Any, str, int]]:
    """(original digest, deliverable digest, kind, rows) for each original file."""
    spec = PackageSpec(
        compression=Compression(sync.compression).value,
        encrypt=sync.encryption == Encryption.PGP,
        recipient_keys=tuple(k.armored for k in sync.recipient_keys),
        # Only the stored recipients, whatever else an older stored block may hold.
        recipient_fingerprints=tuple(k.fingerprint for k in sync.recipient_keys),
        armor=bool(sync.pgp_armor),
        gnupg_home=Path(app.config["GNUPG_HOME"]),
    )
    records = []
    for original in result.files:
        original_digest = digest(original.path)
        deliverable = package(original.path, deliverables_dir, spec)
        records.append((original_digest, deliverable, original.kind, original.rows))
    return records


def _commit_created(
    instance: SyncInstance,
    sync: Sync,
    moves_watermark: bool,
    result: ExportResult,
    records: list[tuple[Any, Any, str, int]],
    folder: Path,
) -> None:
    """Creation complete, files, watermark and transfers: one commit, fenced by the lease."""
    export_root = folder.parent.parent
    for original, deliverable, kind, rows in records:
        original_row = SyncFile(
            instance_id=instance.id,
            role=FileRole.ORIGINAL,
            kind=kind,
            name=original.name,
            path=str(original.path.relative_to(export_root)),
            size=original.size,
            sha256=original.sha256,
            rows=rows,
        )
        db.session.add(original_row)
        db.session.flush()
        db.session.add(
            SyncFile(
                instance_id=instance.id,
                role=FileRole.DELIVERABLE,
                original_id=original_row.id,
                kind=kind,
                name=deliverable.name,
                path=str(deliverable.path.relative_to(export_root)),
                size=deliverable.size,
                sha256=deliverable.sha256,
                rows=rows,
            )
        )
    instance.creation_status = CreationStatus.SUCCEEDED if records else CreationStatus.NO_DATA
    instance.creation_finished_at = utcnow()
    instance.rows_written = result.rows
    instance.row_counts = result.row_counts()
    instance.watermark_to = result.watermark if moves_watermark else None
    new_watermark = result.watermark if moves_watermark else sync.watermark
    if not lease.release(db.session.connection(), sync.id, instance.id, watermark=new_watermark):
        raise lease.LeaseLost(
            "This run was taken for dead (no heartbeat) while it built; its files were discarded."
        )
    db.session.flush()
    db.session.expire(instance, ["files"])
    if records:
        create_transfers(instance, list(sync.destinations), instance.requested_by_id)
    db.session.commit()
    db.session.refresh(sync)


def _fail_build(instance: SyncInstance, message: str, action: str = "run.failed") -> None:
    instance.creation_status = CreationStatus.FAILED
    instance.creation_finished_at = utcnow()
    instance.error = message
    lease.release(db.session.connection(), instance.sync_id, instance.id)
    audit.record(
        action, obj=instance, sync_id=instance.sync_id, detail={"error": message}, actor="worker"
    )
    db.session.commit()
    progress.publish("instance", instance.id, phase="failed")
    notify_failure(instance, message)


def _start_next_waiting(sync_id: int) -> None:
    """Enqueue the oldest run of this sync still pending (it may have waited for the lease).

    Always enqueued, even if that run's own job looks alive: its job may be just about to
    return "waiting". A duplicate job is harmless, since a build starts only from pending
    and only with the lease.
    """
    waiting = db.session.scalar(
        select(SyncInstance)
        .where(
            SyncInstance.sync_id == sync_id, SyncInstance.creation_status == CreationStatus.PENDING
        )
        .order_by(SyncInstance.id)
        .limit(1)
    )
    if waiting is not None:
        dispatch.enqueue_build(waiting)
        db.session.commit()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, lease.LeaseLost | DeliveryError):
        return str(getattr(exc, "message", None) or exc)
    return f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- transfer


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
            _finish_transfer(row, None, TransferStatus.FAILED, refusal, action="transfer.refused")
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
            _finish_transfer(row, attempt, TransferStatus.RETRYING, exc.message, retry_in=delay)
            return "retrying"
        _finish_transfer(row, attempt, TransferStatus.FAILED, exc.message)
        return "failed"
    except Exception as exc:
        db.session.rollback()
        attempt = db.session.get(TransferAttempt, attempt.id) or attempt
        row = db.session.get(Transfer, row.id) or row
        attempt.error, attempt.error_kind, attempt.retryable = _describe(exc), "internal", False
        _finish_transfer(row, attempt, TransferStatus.FAILED, _describe(exc))
        raise
    attempt.bytes_sent = sent_before
    _finish_transfer(row, attempt, TransferStatus.SUCCEEDED, None)
    return "succeeded"


def _finish_transfer(
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
