"""One build per sync at a time: a lease on the sync row, with heartbeat and fencing.

``acquire`` takes the lease with one conditional UPDATE (free, or its holder's heartbeat
is stale), so two workers can never both hold it, on SQLite or PostgreSQL, and a killed
worker's lease expires by itself. The build's final commit is fenced: it advances the
watermark only ``WHERE build_lease_instance_id = <this run>``; a run that lost its lease
(it was taken for dead and another started) cannot move the watermark.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, or_, update

from loyalty.db import utcnow
from webapp.models.syncs import Sync


class LeaseLost(RuntimeError):
    """The run no longer holds its sync's build lease; its result must not be committed."""


def acquire(
    connection: Connection,
    sync_id: int,
    instance_id: int,
    stale_after: timedelta,
    now: datetime | None = None,
) -> bool:
    now = now or utcnow()
    result = connection.execute(
        update(Sync)
        .where(
            Sync.id == sync_id,
            or_(
                Sync.build_lease_instance_id.is_(None),
                Sync.build_lease_instance_id == instance_id,
                Sync.build_lease_heartbeat_at < now - stale_after,
            ),
        )
        .values(build_lease_instance_id=instance_id, build_lease_heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def beat(connection: Connection, sync_id: int, instance_id: int) -> None:
    connection.execute(
        update(Sync)
        .where(Sync.id == sync_id, Sync.build_lease_instance_id == instance_id)
        .values(build_lease_heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def release(connection: Connection, sync_id: int, instance_id: int, **also: object) -> bool:
    """Release the lease (and set ``also`` on the sync) only if this run holds it."""
    result = connection.execute(
        update(Sync)
        .where(Sync.id == sync_id, Sync.build_lease_instance_id == instance_id)
        .values(build_lease_instance_id=None, build_lease_heartbeat_at=None, **also)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
