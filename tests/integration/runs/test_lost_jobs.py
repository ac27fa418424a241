"""Work cannot vanish (issue 15, item 2): a run or transfer whose job Redis no longer has
is queued again by the minute sweep, exactly once, and the run says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import select, update

from jobs.retention import PURGE_JOB
from jobs.tick import LOST_JOB_NOTE, _requeue, tick
from loyalty.db import utcnow
from tests.fixtures.live_server import start_worker
from tests.fixtures.redis_server import RestartableRedis
from tests.integration.runs.conftest import latest, received
from tests.integration.runs.test_crashes import wait_for
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import CreationStatus, SyncInstance, Transfer, TransferStatus
from webapp.services import progress, runs
from webapp.services.dispatch import queue_names
from webapp.services.redis_client import redis_client

pytestmark = pytest.mark.integration


def later(minutes: float = 2) -> Any:
    """A tick's clock past the lost-job grace."""
    return utcnow() + timedelta(minutes=minutes)


def requeued_events(kind: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == f"{kind}.requeued"))
    )


def build_only() -> None:
    from rq import SimpleWorker

    SimpleWorker([queue_names()[0]], connection=redis_client()).work(
        burst=True, with_scheduler=False
    )
    db.session.expire_all()


def queued() -> int:
    """Build and transfer jobs waiting; the day's retention purge, which the first tick of
    a day queues on the builds queue (jobs.retention), is not one of them."""
    return sum(
        1
        for name in queue_names()
        for job in Queue(name, connection=redis_client()).jobs
        if job.func_name != PURGE_JOB
    )


def test_flushall_between_enqueue_and_pickup(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync(rows=5)
    _, folder = sftp_destination(sync)
    _, folder_b = sftp_destination(sync)
    instance = runs.start_manual_run(sync, user=None, actor="test")
    redis_client().flushall()  # the build's job is gone before any worker took it
    run_jobs()
    assert latest(sync).creation_status == CreationStatus.PENDING

    assert tick(utcnow())["enqueued"] == 0  # within the grace: the job may just be slow
    assert tick(later())["enqueued"] == 1
    assert tick(later())["enqueued"] == 0  # its new job is queued: never twice
    assert queued() == 1
    assert latest(sync).note == LOST_JOB_NOTE
    assert len(requeued_events("build")) == 1

    build_only()  # the build runs, and queues both transfers
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.SUCCEEDED
    assert [t.status for t in instance.transfers] == [TransferStatus.PENDING] * 2
    redis_client().flushall()  # and now the transfers' jobs are lost
    db.session.execute(  # they were created long enough ago to be taken for lost
        update(Transfer).values(created_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    assert tick(utcnow())["enqueued"] == 2
    assert tick(utcnow())["enqueued"] == 0
    run_jobs()
    instance = latest(sync)
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED] * 2
    assert [len(t.attempts) for t in instance.transfers] == [1, 1]  # sent once each
    expected = {f.name: f.sha256 for f in instance.deliverables}
    assert received(folder) == expected and received(folder_b) == expected
    assert len(requeued_events("transfer")) == 2
    assert "re-queued after its job was lost" in instance.note.lower()


def test_two_sweeps_claim_a_lost_job_once(app: Flask, make_sync: Any) -> None:
    """The claim is one conditional UPDATE in the database: a sweep that read the row
    before another sweep claimed it enqueues nothing."""
    sync = make_sync()
    runs.start_manual_run(sync, user=None, actor="test")
    redis_client().flushall()
    instance = latest(sync)
    seen_by_first = instance.job_id
    # A second sweep (another scheduler) claimed it meanwhile, in its own transaction.
    with db.engine.begin() as connection:
        connection.execute(
            update(SyncInstance)
            .where(SyncInstance.id == instance.id)
            .values(job_id="claimed-by-the-other-sweep")
        )
    assert instance.job_id == seen_by_first  # this sweep's stale view of the row
    assert _requeue(SyncInstance, instance, lost=True) is False
    assert queued() == 0
    assert requeued_events("build") == []


@pytest.fixture
def app_config(app_config: dict[str, Any], restartable_redis: RestartableRedis) -> dict[str, Any]:
    return {**app_config, "REDIS_URL": restartable_redis.url}


@pytest.fixture(autouse=True)
def revive_redis(app: Flask, restartable_redis: RestartableRedis) -> Iterator[None]:
    """Torn down before the app (which flushes Redis): start a killed Redis again."""
    yield
    restartable_redis.ensure_running()


@pytest.mark.slow
def test_redis_killed_and_restarted_mid_transfer(
    app: Flask,
    restartable_redis: RestartableRedis,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    tmp_path: Path,
) -> None:
    """A worker process sends a 100 MB file to the first destination while the second and
    third transfers wait in Redis; Redis is killed and started again, empty. The upload
    under way finishes, the waiting transfers are queued again by the sweep, every run
    ends delivered, and no file is sent twice."""
    sync = make_sync(rows=100_000, row_width=1000)
    folders = [sftp_destination(sync)[1] for _ in range(3)]
    runs.start_manual_run(sync, user=None, actor="test")
    build_only()  # the build, here; it queues the three transfers
    instance = latest(sync)
    assert len(instance.transfers) == 3
    worker = start_worker(app, tmp_path / "worker.log")  # one work horse at a time
    try:
        wait_for(
            lambda: any(
                int(progress.read("transfer", t.id).get("sent", "0")) > 5_000_000
                for t in latest(sync).transfers
            ),
            what="bytes on the wire",
        )
        restartable_redis.restart()  # SIGKILL, then an empty Redis on the same port
        wait_for(
            lambda: sum(t.status == TransferStatus.SUCCEEDED for t in latest(sync).transfers) >= 1,
            timeout=120,
            what="the upload under way to finish",
        )
        db.session.execute(update(Transfer).values(created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
        tick(utcnow())  # the minute sweep: the two waiting transfers' jobs were lost
        wait_for(
            lambda: all(TransferStatus(t.status).is_final for t in latest(sync).transfers),
            timeout=180,
            what="every transfer to end",
        )
    finally:
        worker.stop()
    instance = latest(sync)
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED] * 3, worker.output()
    assert [len(t.attempts) for t in instance.transfers] == [1, 1, 1]
    expected = {f.name: f.sha256 for f in instance.deliverables}
    for folder in folders:
        assert received(folder) == expected
        assert sorted(p.name for p in folder.iterdir()) == sorted(expected)  # no leftovers
    assert len(requeued_events("transfer")) == 2
