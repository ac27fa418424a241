"""The rules for runs: starting one by hand, re-transferring a past one, reading them.

Starting work commits before it enqueues (a worker must find the row it is given) and
records the job id afterwards. When Redis does not answer, the row stays saved without a
job and says so; the minute sweep (jobs.tick) queues it once Redis is back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from loyalty.errors import NotFound, ValidationError
from loyalty.text import parse_id
from webapp.extensions import db
from webapp.models.runs import (
    CreationStatus,
    FileRole,
    SyncFile,
    SyncInstance,
    Transfer,
    TransferStatus,
    Trigger,
)
from webapp.models.syncs import Destination, Sync
from webapp.models.users import User
from webapp.services import audit, dispatch, run_status
from webapp.services.permissions import SYNC_DOWNLOAD, SYNC_RUN, SYNC_VIEW, require

PAGE_SIZE = 20


def start_manual_run(sync: Sync, *, user: User | None, actor: str | None = None) -> SyncInstance:
    """Process New Sync: a manual run, built as soon as no other run of the sync builds."""
    if user is not None:
        require(user, SYNC_RUN)
    sync_type_known(sync)
    instance = SyncInstance(
        sync_id=sync.id, trigger=Trigger.MANUAL, requested_by_id=user.id if user else None
    )
    db.session.add(instance)
    db.session.flush()
    audit.record("run.start", obj=instance, sync_id=sync.id, user=user, actor=actor)
    db.session.commit()
    try:
        dispatch.enqueue_build(instance)
    except dispatch.QueueUnavailable:
        instance.job_id = None
        instance.note = QUEUE_DOWN_NOTE
    db.session.commit()
    return instance


QUEUE_DOWN_NOTE = "Saved while the job queue (Redis) did not answer; it starts when Redis is back."


def queue_was_down(*rows: SyncInstance | Transfer) -> bool:
    """True when work just started could not be queued (Redis down): the rows are saved."""
    return any(row.job_id is None for row in rows)


def create_transfers(
    instance: SyncInstance, destinations: list[Destination], requested_by_id: int | None
) -> list[Transfer]:
    """One transfer per destination, in the next round for each; the caller commits."""
    total = sum(f.size for f in instance.files if f.role == FileRole.DELIVERABLE)
    transfers = []
    for destination in destinations:
        last_round = db.session.scalar(
            select(func.max(Transfer.round)).where(
                Transfer.instance_id == instance.id, Transfer.destination_id == destination.id
            )
        )
        transfer = Transfer(
            instance_id=instance.id,
            destination_id=destination.id,
            destination_name=destination.name,
            round=(last_round or 0) + 1,
            requested_by_id=requested_by_id,
            status=TransferStatus.PENDING,
            max_attempts=1 + destination.retries,
            bytes_total=total,
        )
        db.session.add(transfer)
        transfers.append(transfer)
    db.session.flush()
    return transfers


def request_retransfer(
    instance: SyncInstance,
    *,
    user: User | None,
    destination_id: int | None = None,
    actor: str | None = None,
) -> list[Transfer]:
    """Transfer File(s): send the stored deliverables again, to all destinations or one."""
    if user is not None:
        require(user, SYNC_RUN)
    if instance.files_removed_at is not None:
        raise ValidationError(
            f"Run #{instance.id} cannot be transferred again: its files were removed on "
            f"{instance.files_removed_at:%Y-%m-%d} by the retention policy (Settings, "
            "Stored files). Process New Sync builds a new run."
        )
    if instance.creation_status != CreationStatus.SUCCEEDED or not instance.deliverables:
        raise ValidationError("Only a run whose files were created can be transferred again.")
    sync = instance.sync
    if destination_id is None:
        targets = list(sync.destinations)
        if not targets:
            raise ValidationError("This sync has no FTP destinations; add one first.")
    else:
        ident = parse_id(destination_id)
        destination = db.session.get(Destination, ident) if ident is not None else None
        if destination is None or destination.sync_id != sync.id:
            raise ValidationError(f"Destination {destination_id} does not belong to this sync.")
        targets = [destination]
    busy = [
        t.destination_name
        for t in instance.transfers
        if t.destination_id in {d.id for d in targets} and not TransferStatus(t.status).is_final
    ]
    if busy:
        raise ValidationError(
            f"A transfer to {', '.join(busy)} is still under way; wait for it to finish."
        )
    transfers = create_transfers(instance, targets, user.id if user else None)
    audit.record(
        "run.retransfer",
        obj=instance,
        sync_id=sync.id,
        detail={"destinations": [d.name for d in targets]},
        user=user,
        actor=actor,
    )
    db.session.commit()
    for transfer in transfers:
        try:
            dispatch.enqueue_transfer(transfer)
        except dispatch.QueueUnavailable:
            transfer.job_id = None
            break  # the sweep queues them all once Redis is back
    db.session.commit()
    return transfers


def get_instance(instance_id: int, user: User | None, with_row: bool = False) -> SyncInstance:
    """A run; ``with_row`` loads what its dashboard row shows (sync, transfers, requester)
    in the same round trips, for the live status partial that is polled every 2 s."""
    if user is not None:
        require(user, SYNC_VIEW)
    options = (
        [
            joinedload(SyncInstance.sync),
            joinedload(SyncInstance.requested_by),
            selectinload(SyncInstance.transfers),
        ]
        if with_row
        else []
    )
    ident = parse_id(instance_id)
    instance = db.session.get(SyncInstance, ident, options=options) if ident is not None else None
    if instance is None:
        raise NotFound(f"No run with id {instance_id}.")
    return instance


def list_instances(
    sync: Sync, user: User | None, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[SyncInstance], bool]:
    """Runs of a sync, newest first; returns (runs, has_next_page)."""
    if user is not None:
        require(user, SYNC_VIEW)
    rows = db.session.scalars(
        select(SyncInstance)
        .options(selectinload(SyncInstance.requested_by))
        .where(SyncInstance.sync_id == sync.id)
        .order_by(SyncInstance.id.desc())
        .limit(page_size + 1)
        .offset((max(page, 1) - 1) * page_size)
    ).all()
    page_rows = list(rows[:page_size])
    run_status.load_transfers(db.session, page_rows)  # one light query (issue 14 bench)
    return page_rows, len(rows) > page_size


def file_for_download(
    file_id: int, user: User | None, actor: str | None = None
) -> tuple[SyncFile, Path]:
    """An original file and its path under EXPORT_DIR, checked and audited.

    The path comes from the database row, never from the request, and must resolve
    inside EXPORT_DIR.
    """
    if user is not None:
        require(user, SYNC_DOWNLOAD)
    ident = parse_id(file_id)
    sync_file = db.session.get(SyncFile, ident) if ident is not None else None
    if sync_file is None or sync_file.role != FileRole.ORIGINAL:
        raise NotFound(f"No original file with id {file_id}.")
    removed = sync_file.instance.files_removed_at
    if removed is not None:
        raise NotFound(
            f"The file {sync_file.name} was removed on {removed:%Y-%m-%d} by the retention "
            "policy; its name, size and SHA-256 stay on the run."
        )
    root = Path(current_app.config["EXPORT_DIR"]).resolve()
    path = (root / sync_file.path).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"The file {sync_file.name} is no longer on disk.")
    audit.record(
        "file.download",
        obj=sync_file,
        sync_id=sync_file.instance.sync_id,
        detail={"name": sync_file.name, "sha256": sync_file.sha256},
        user=user,
        actor=actor,
    )
    db.session.commit()
    return sync_file, path


def latest_transfers(instance: SyncInstance) -> list[Transfer]:
    """The newest round for each destination of a run."""
    newest: dict[Any, Transfer] = {}
    for transfer in instance.transfers:
        key = transfer.destination_id or f"gone-{transfer.destination_name}"
        if key not in newest or transfer.round > newest[key].round:
            newest[key] = transfer
    return sorted(newest.values(), key=lambda t: t.id)


def transfer_summary(instance: SyncInstance, transfers: list[Transfer] | None = None) -> str:
    """One word for the dashboard's Transfer Status column (``transfers``: the latest rounds)."""
    if instance.creation_status in (CreationStatus.FAILED, CreationStatus.NO_DATA):
        return "none"
    transfers = latest_transfers(instance) if transfers is None else transfers
    if not transfers:
        return "none" if instance.creation_status == CreationStatus.SUCCEEDED else "pending"
    statuses = {TransferStatus(t.status) for t in transfers}
    if statuses & {TransferStatus.TRANSFERRING}:
        return "transferring"
    if statuses & {TransferStatus.PENDING, TransferStatus.RETRYING}:
        return "retrying" if TransferStatus.RETRYING in statuses else "pending"
    if statuses == {TransferStatus.SUCCEEDED}:
        return "succeeded"
    if statuses == {TransferStatus.FAILED}:
        return "failed"
    return "partial"


def sync_type_known(sync: Sync) -> None:
    import exporters

    if sync.type_key not in exporters.registry():
        raise ValidationError(f"Sync type {sync.type_key!r} is not available in this version.")
