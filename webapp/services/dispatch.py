"""Hands work to the RQ workers. The only module outside ``jobs/`` that knows about RQ.

Jobs are named by dotted path (``jobs.build.create_files``) so that the web app never
imports the job code (``jobs`` uses ``webapp``, never the other way), and take ids only
(RQ pickles its payloads). Timeouts come from the work: a build gets the longest recent
build of its sync times three, at least 30 minutes; a transfer gets its bytes at 1 MB/s
plus ten minutes. A dead worker is found by the heartbeat sweeper long before either
runs out.
"""

from __future__ import annotations

import uuid

from flask import current_app
from redis import RedisError
from rq import Queue
from sqlalchemy import select

from webapp.extensions import db
from webapp.models.notifications import WebhookDelivery
from webapp.models.runs import CreationStatus, SyncInstance, Transfer
from webapp.services.installation import queue_prefix
from webapp.services.redis_client import redis_client

BUILD_JOB = "jobs.build.create_files"
TRANSFER_JOB = "jobs.transfer.transfer"
TICK_JOB = "jobs.tick.tick"
CONNECTION_TEST_JOB = "jobs.connection_test.test"
# A connection test waits for servers for 10 s; the job is killed well after that.
CONNECTION_TEST_TIMEOUT_SECONDS = 30
WEBHOOK_JOB = "jobs.webhooks.deliver"


class QueueUnavailable(RedisError):
    """Redis did not answer: the row is saved, its job is not queued yet. The minute
    sweep (jobs.tick) queues it once Redis is back."""


def queue_names() -> tuple[str, str]:
    """(builds, transfers), named by this install's prefix."""
    prefix = queue_prefix()
    return f"{prefix}-builds", f"{prefix}-transfers"


def tick_queue_name() -> str:
    """The minute tick's own queue, which workers take before any other: a tick must
    never wait behind an hour-long build."""
    return f"{queue_prefix()}-ticks"


def worker_queue_names() -> list[str]:
    """What ``flask worker`` listens to, in priority order: ticks, builds, transfers."""
    return [tick_queue_name(), *queue_names()]


def queue(kind: str) -> Queue:
    builds, transfers = queue_names()
    return Queue(builds if kind == "builds" else transfers, connection=redis_client())


def build_timeout(instance: SyncInstance) -> int:
    recent = db.session.execute(
        select(SyncInstance.creation_started_at, SyncInstance.creation_finished_at)
        .where(
            SyncInstance.sync_id == instance.sync_id,
            SyncInstance.creation_status == CreationStatus.SUCCEEDED,
            SyncInstance.creation_finished_at.is_not(None),
        )
        .order_by(SyncInstance.id.desc())
        .limit(10)
    ).all()
    longest = max(
        (
            (finished - started).total_seconds()
            for started, finished in recent
            if started and finished
        ),
        default=0.0,
    )
    return int(max(30 * 60, 3 * longest))


def transfer_timeout(transfer: Transfer) -> int:
    return int(10 * 60 + (transfer.bytes_total or 0) / 1_000_000)


def enqueue_build(instance: SyncInstance, job_id: str | None = None) -> str:
    """Queue the run's build (under ``job_id`` when the caller claimed one)."""
    instance.job_id = job_id or new_job_id("build", instance.id)
    enqueue_as(
        "builds",
        BUILD_JOB,
        instance.id,
        instance.job_id,
        timeout=build_timeout(instance),
        description=f"build sync {instance.sync_id} run {instance.id}",
    )
    return instance.job_id


def enqueue_transfer(transfer: Transfer, job_id: str | None = None) -> str:
    """Queue one attempt of the transfer (under ``job_id`` when the caller claimed one)."""
    transfer.job_id = job_id or new_job_id("transfer", transfer.id)
    enqueue_as(
        "transfers",
        TRANSFER_JOB,
        transfer.id,
        transfer.job_id,
        timeout=transfer_timeout(transfer),
        description=f"transfer run {transfer.instance_id} to {transfer.destination_name}",
    )
    return transfer.job_id


def enqueue_connection_test(
    token: str,
    sync_id: int,
    destination_id: int | None,
    user_id: int,
    plain: dict[str, str],
    sealed: str | None,
) -> None:
    """Queue a Test connection at the front of the builds queue (the first any worker
    takes: a person waits for it). Its arguments hold no secret in clear: ``sealed`` is
    Fernet-encrypted. RQ drops it unstarted after ``CONNECTION_TEST_QUEUE_SECONDS``."""
    queue("builds").enqueue(
        CONNECTION_TEST_JOB,
        token,
        sync_id,
        destination_id,
        user_id,
        plain,
        sealed,
        job_id=f"{queue_prefix()}-connection-test-{uuid.uuid4().hex[:12]}",
        job_timeout=CONNECTION_TEST_TIMEOUT_SECONDS,
        ttl=int(current_app.config["CONNECTION_TEST_QUEUE_SECONDS"]),
        result_ttl=0,
        failure_ttl=3600,
        at_front=True,
        description=f"test connection of sync {sync_id}",
    )


def enqueue_webhook(delivery: WebhookDelivery) -> str:
    """A webhook delivery rides the transfers queue (short network work, like a transfer)."""
    delivery.job_id = _enqueue(
        "transfers",
        WEBHOOK_JOB,
        delivery.id,
        timeout=120,
        description=f"webhook {delivery.webhook_id} {delivery.event} delivery {delivery.id}",
        prefix="webhook",
    )
    return delivery.job_id


def _enqueue(
    kind: str, job: str, row_id: int, *, timeout: int, description: str, prefix: str | None = None
) -> str:
    """Queue ``job(row_id)`` under a fresh id that names the install and the row (the
    sweeper and the dashboard find a row's job by the id stored on the row)."""
    job_id = new_job_id(prefix or kind.removesuffix("s"), row_id)
    enqueue_as(kind, job, row_id, job_id, timeout=timeout, description=description)
    return job_id


def new_job_id(kind: str, row_id: int) -> str:
    """``<install prefix>-<kind>-<row id>-<8 hex>``: unique on a shared Redis."""
    return f"{queue_prefix()}-{kind}-{row_id}-{uuid.uuid4().hex[:8]}"


def enqueue_as(
    kind: str, job: str, row_id: int, job_id: str, *, timeout: int, description: str
) -> None:
    """Queue ``job(row_id)`` under ``job_id``; ``QueueUnavailable`` when Redis is down."""
    try:
        queue(kind).enqueue(
            job,
            row_id,
            job_id=job_id,
            job_timeout=timeout,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=description,
        )
    except RedisError as exc:
        raise QueueUnavailable(f"Redis did not answer ({type(exc).__name__})") from exc


def job_is_alive(job_id: str | None) -> bool:
    """True when RQ still has the job queued, scheduled or running (RedisError when
    Redis does not answer: then nobody can tell)."""
    if not job_id:
        return False
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=redis_client())
    except NoSuchJobError:
        return False
    return job.get_status(refresh=True) in (
        JobStatus.QUEUED,
        JobStatus.STARTED,
        JobStatus.SCHEDULED,
        JobStatus.DEFERRED,
    )
