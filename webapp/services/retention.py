"""Retention of stored run files, and how much disk the runs use.

A sync keeps its runs' files ``retention_days`` days (default 90) and/or the files of its
last ``retention_runs`` runs; a run is kept when either rule keeps it, so a sync with
both always has its latest files to re-transfer. The daily purge (jobs.retention)
deletes the files of the rest; the run rows, their hashes and the audit stay, and the
run says when its files went. A run still delivering (a transfer not final) is never
purged: its worker is reading those files.

The change log is pruned below the lowest position any sync still needs: its
watermark, or for a sync that has not run yet the position when it was created
(``Sync.log_start``). Disabled syncs count; cumulative types never read the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from loyalty.changefeed import Watermark
from webapp.extensions import db
from webapp.models.runs import CreationStatus, SyncFile, SyncInstance, TransferStatus
from webapp.models.syncs import Sync


def removed_note(instance: SyncInstance) -> str | None:
    """What a purged run's pages and refusals say, or None when its files are there."""
    if instance.files_removed_at is None:
        return None
    return f"Files removed on {instance.files_removed_at:%Y-%m-%d} by the retention policy."


def runs_to_purge(sync: Sync, runs: Sequence[SyncInstance], now: datetime) -> list[SyncInstance]:
    """Which of ``runs`` (the sync's runs with files still stored) lose their files now.

    Pure policy: no database access beyond the given rows' loaded attributes.
    """
    days, keep_last = sync.retention_days, sync.retention_runs
    if days is None and keep_last is None:
        return []
    newest_first = sorted(runs, key=lambda r: r.id, reverse=True)
    recent = {r.id for r in newest_first[: keep_last or 0]}
    cutoff = now - timedelta(days=days) if days is not None else None
    chosen = []
    for run in newest_first:
        if run.id in recent or not CreationStatus(run.creation_status).is_final:
            continue
        if cutoff is not None and (run.creation_finished_at or run.created_at) > cutoff:
            continue
        if any(not TransferStatus(t.status).is_final for t in run.transfers):
            continue  # a worker may be reading these files
        chosen.append(run)
    return chosen


def runs_with_files(sync_id: int) -> list[SyncInstance]:
    """The sync's runs whose files are still stored (purge candidates)."""
    has_files = select(SyncFile.id).where(SyncFile.instance_id == SyncInstance.id).exists()
    return list(
        db.session.scalars(
            select(SyncInstance).where(
                SyncInstance.sync_id == sync_id,
                SyncInstance.files_removed_at.is_(None),
                has_files,
            )
        )
    )


def stored_bytes_by_sync() -> dict[int, int]:
    """Bytes of files still stored, per sync (originals and deliverables)."""
    rows = db.session.execute(
        select(SyncInstance.sync_id, func.coalesce(func.sum(SyncFile.size), 0))
        .join(SyncFile, SyncFile.instance_id == SyncInstance.id)
        .where(SyncInstance.files_removed_at.is_(None))
        .group_by(SyncInstance.sync_id)
    ).all()
    return {int(sync_id): int(total) for sync_id, total in rows}


def stored_bytes(sync_id: int) -> int:
    return stored_bytes_by_sync().get(sync_id, 0)


def needed_log_positions() -> list[Watermark] | None:
    """Each log-reading sync's lowest needed position; None when one needs the whole log
    (a sync created before positions were recorded that has never run)."""
    import exporters

    registry = exporters.registry()
    positions: list[Watermark] = []
    for sync in db.session.scalars(select(Sync)):
        sync_type = registry.get(sync.type_key)
        if sync_type is not None and not sync_type.semantics.reads_watermark:
            continue
        position: dict[str, Any] | None = sync.watermark or sync.log_start
        if position is None:
            return None
        positions.append(position)
    return positions
