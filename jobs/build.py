"""The build job of a run: export its files in one read snapshot, package them, record
them, and fan out one transfer job per destination.

``create_files`` takes an id only, loads its state from the database, re-checks the
permission of the user who asked for the run, takes the sync's build lease, and records
what happened; an unexpected error marks the run failed and is re-raised (so RQ's failed
registry keeps the traceback too). Exporting itself is ``webapp.services.exports``, the
same code ``flask sync export`` runs.
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, update

import exporters
from delivery.packaging import PackageSpec, digest, package
from exporters.base import ExportResult
from jobs import lease
from jobs.context import job_context
from jobs.deadlines import run_settled
from jobs.disk import disk_full_message
from jobs.failures import database_lost, describe, is_database_outage, until_database_answers
from jobs.heartbeat import Heartbeat
from jobs.notify import notify_failure
from loyalty.db import utcnow
from loyalty.engine import read_snapshot
from webapp.extensions import db
from webapp.models.runs import CreationStatus, FileRole, SyncFile, SyncInstance, Trigger
from webapp.models.syncs import Compression, Encryption, Sync
from webapp.models.users import User
from webapp.services import audit, dispatch, progress, signing
from webapp.services.exports import export_sync
from webapp.services.permissions import SYNC_RUN, has_permission
from webapp.services.runs import create_transfers


def run_dir(app: Flask, instance: SyncInstance) -> Path:
    return Path(app.config["EXPORT_DIR"]) / f"sync-{instance.sync_id}" / f"run-{instance.id}"


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
            fail_build(instance, refusal, action="run.refused")
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
    run_id = instance.id  # readable after a rollback even when the database is away
    sync_type = exporters.get(sync.type_key)
    now = utcnow()
    # Claim the run atomically (issue 14): a person may have cancelled it since it was
    # loaded; then it gives the lease back and builds nothing.
    claimed = (
        db.session.connection()
        .execute(
            update(SyncInstance)
            .where(
                SyncInstance.id == instance.id,
                SyncInstance.creation_status == CreationStatus.PENDING,
            )
            .values(creation_status=CreationStatus.RUNNING)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    if not claimed:
        db.session.rollback()
        lease.release(db.session.connection(), sync.id, instance.id)
        db.session.commit()
        return "moved on"
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
    originals_dir, deliverables_dir = folder / "original", folder / "deliverable"

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
        # Inside the try: a run folder that cannot be made (full disk, a file in the way,
        # a read-only share) fails the run now and frees the lease, rather than leaving it
        # "running" until the sweeper calls the worker dead (issue 17, item 12).
        shutil.rmtree(folder, ignore_errors=True)  # leftovers of a killed attempt of this run
        originals_dir.mkdir(parents=True)
        deliverables_dir.mkdir()
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
        full = disk_full_message(exc, folder, Path(app.config["EXPORT_DIR"]))
        outage = is_database_outage(exc)
        shutil.rmtree(folder, ignore_errors=True)
        message = full or (database_lost(exc, "this run was built") if outage else describe(exc))

        def record() -> None:
            db.session.rollback()
            fail_build(db.session.get(SyncInstance, run_id) or instance, message)

        until_database_answers(record)
        if full or outage:
            return "failed"  # said on the run; no traceback needed in RQ's failed registry
        raise
    progress.publish("instance", instance.id, phase="done", rows=result.rows)
    status = instance.creation_status
    if status == CreationStatus.SUCCEEDED:
        for transfer in list(instance.transfers):
            dispatch.enqueue_transfer(transfer)
        db.session.commit()
    return str(status)


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
        # Signed as well when the sync has a signing key (encrypted files only).
        signer=signing.signer_of(sync) if sync.encryption == Encryption.PGP else None,
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


def fail_build(instance: SyncInstance, message: str, action: str = "run.failed") -> None:
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
    run_settled(instance)


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
