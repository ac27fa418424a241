"""``flask worker`` and ``flask scheduler``: the RQ worker and the minute tick.

Both are Flask CLI plugins, registered by the ``flask.commands`` entry points in
pyproject.toml (the web app never imports this package), so ``flask --app wsgi worker``
works once the project is installed.

The worker creates the app once, pushes its context (forked work horses inherit it) and
makes each forked child drop the inherited database connections, since a connection
must never be shared across processes. It takes the install's ``-ticks`` queue before
its builds and transfers, so the minute tick never waits behind a long build.

Every name in Redis carries the install's prefix (webapp.services.installation), the
scheduler's too: its set of scheduled jobs and its lock are the install's own, so two
installs on one Redis never run, cancel or block each other's tick. The scheduler
outlives Redis restarts: it reconnects with back-off and registers the tick again when
it finds it gone (the private Redis keeps nothing across a restart).
"""

from __future__ import annotations

import functools
import importlib
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import click
from flask.cli import with_appcontext
from redis import RedisError
from sqlalchemy.orm import configure_mappers

from webapp.cli.common import redis_down
from webapp.extensions import db
from webapp.services.dispatch import TICK_JOB, queue_names, tick_queue_name, worker_queue_names
from webapp.services.installation import queue_prefix
from webapp.services.redis_client import redis_client

# What the work horses run: imported by the worker before it forks them.
JOB_MODULES = (
    "jobs.build",
    "jobs.transfer",
    "jobs.tick",
    "delivery.transports.sftp",
    "delivery.transports.ftps",
)
# The one id every deployment's tick had until this release (remove with jobs/runs.py).
LEGACY_TICK_ID = "loyalty-sync-tick"
# The builds queue of installs on the old fixed default prefix "loyalty-sync".
LEGACY_BUILDS = "loyalty-sync-builds"
TICK_INTERVAL_SECONDS = 60
WORKER_TTL_SECONDS = 60
# Back-off of the scheduler while Redis does not answer: 1, 2, 4 ... at most 30 s.
RECONNECT_MAX_SECONDS = 30.0


@functools.cache
def _install_scheduler_class() -> Any:
    """rq-scheduler with an install's own keys: its scheduled-jobs set, its lock and its
    instance records carry the prefix (rq-scheduler's are one per Redis). Built on first
    use: every `flask` command loads this plugin module, few need rq-scheduler."""
    from rq_scheduler import Scheduler

    class InstallScheduler(Scheduler):  # type: ignore[misc]
        def __init__(self, prefix: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.scheduled_jobs_key = f"{prefix}:scheduler:scheduled_jobs"
            self.scheduler_lock_key = f"{prefix}:scheduler_lock"
            self.scheduler_key = f"{prefix}:scheduler"
            self.redis_scheduler_namespace_prefix = f"{prefix}:scheduler_instance:"

    return InstallScheduler


def install_scheduler(interval: int = 60) -> Any:
    """This install's scheduler (an rq_scheduler.Scheduler); its jobs go to the ticks queue."""
    return _install_scheduler_class()(
        queue_prefix(),
        queue_name=tick_queue_name(),
        connection=redis_client(),
        interval=interval,
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking.")
@with_appcontext
def worker_command(burst: bool, simple: bool) -> None:
    """Run an RQ worker on the build and transfer queues."""
    from rq import SimpleWorker, Worker

    _import_job_code()
    engine = db.engine
    with engine.connect():  # the dialect learns the server once, not in every work horse
        pass
    engine.dispose()
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    names = worker_queue_names()
    try:
        redis_client().ping()
        worker = install_worker(SimpleWorker if simple else Worker)
    except RedisError as exc:
        redis_down(exc)
    click.echo(f"Worker on {', '.join(names)}")
    # RQ's own loop waits for a Redis that went away (with back-off) and goes on.
    worker.work(burst=burst, with_scheduler=False)


def install_worker(worker_class: Any) -> Any:
    """An RQ worker of this install: on its ticks, builds and transfers queues, under a
    name carrying the install's prefix (its ``rq:worker:<name>`` record too)."""
    return worker_class(
        worker_queue_names(),
        connection=redis_client(),
        name=f"{queue_prefix()}-{uuid.uuid4().hex[:12]}",
        # An idle worker heartbeats every worker_ttl - 15 s: 45 s, so /readyz can ask for
        # a worker seen in the last minute (RQ's default 420 s beats every 405 s).
        worker_ttl=WORKER_TTL_SECONDS,
    )


def _import_job_code() -> None:
    """Import the jobs, the transports and the sync types, and configure the ORM, once,
    here: RQ forks a work horse per job, so without this every job did it all again
    before its work (bench/fanout.py: a transfer's span fell from 0.29 s to 0.19 s, and
    a build started 0.25 s sooner).
    """
    for module in JOB_MODULES:
        importlib.import_module(module)
    import exporters

    exporters.registry()  # imports the 17 sync type modules
    configure_mappers()  # done once per process, on its first query otherwise


def tick_id() -> str:
    """This install's tick job id: ``<prefix>-tick`` (RQ job ids are global on a Redis)."""
    return f"{queue_prefix()}-tick"


def register_tick() -> None:
    """Schedule the minute tick, replacing this install's earlier registration only."""
    scheduler = install_scheduler()
    scheduler.cancel(tick_id())
    _cancel_legacy_ticks()
    scheduler.schedule(
        scheduled_time=datetime.now(UTC),
        func=TICK_JOB,
        interval=TICK_INTERVAL_SECONDS,
        repeat=None,
        id=tick_id(),
        result_ttl=600,
        timeout=600,
        description=f"loyalty sync scheduler tick ({queue_prefix()})",
    )


def _cancel_legacy_ticks() -> None:
    """Drop this install's tick as earlier releases registered it, in rq-scheduler's one
    shared set: under this install's id (a configured prefix), or under the fixed legacy
    id when its jobs go to this install's builds queue, or to the old default builds
    queue that no worker listens to any more (the install upgraded from the default
    prefix). Another install's tick, whose workers still listen, is left alone."""
    from rq import Queue, Worker
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq_scheduler import Scheduler

    shared = Scheduler(queue_name=queue_names()[0], connection=redis_client())
    if tick_id() in shared:
        shared.cancel(tick_id())
    if tick_id() == LEGACY_TICK_ID or LEGACY_TICK_ID not in shared:
        return
    try:
        job = Job.fetch(LEGACY_TICK_ID, connection=redis_client())
    except NoSuchJobError:
        shared.cancel(LEGACY_TICK_ID)
        return
    orphaned = job.origin == LEGACY_BUILDS and not Worker.all(
        queue=Queue(LEGACY_BUILDS, connection=redis_client())
    )
    if job.origin == queue_names()[0] or orphaned:
        shared.cancel(job)
        job.delete()


@click.command("scheduler")
@click.option("--interval", default=5, show_default=True, help="Seconds between scheduler polls.")
@with_appcontext
def scheduler_command(interval: int) -> None:
    """Run rq-scheduler with the minute tick registered; survives Redis restarts."""
    db.engine.dispose()
    # Never exits for Redis, not even at start: under `make run` a process that exits
    # makes honcho stop the whole stack; it waits for Redis (with back-off) instead.
    run_scheduler(interval)


def run_scheduler(interval: int, stop: Any = None) -> None:
    """The scheduler's loop: keep the tick registered and move due jobs to their queues.

    A Redis that goes away is waited for (1, 2, 4 ... 30 s between tries) instead of
    ending the process, which under honcho would stop the whole stack; a Redis that
    comes back empty gets the tick registered again. ``stop()`` ends the loop (tests).
    """
    delay = 1.0
    announced = False
    scheduler = install_scheduler(interval)
    while not (stop and stop()):
        try:
            if tick_id() not in scheduler:
                register_tick()
                if announced:
                    click.echo(
                        f"Scheduler: the tick was gone from Redis; registered it again ({tick_id()})"
                    )
            if not announced:
                click.echo(
                    f"Scheduler: tick every {TICK_INTERVAL_SECONDS} s on {tick_queue_name()} "
                    f"(id {tick_id()})"
                )
                announced = True
            if scheduler.acquire_lock():
                try:
                    scheduler.enqueue_jobs()
                finally:
                    scheduler.remove_lock()
            delay = 1.0
            time.sleep(interval)
        except RedisError as exc:
            click.echo(
                f"Scheduler: Redis is not answering ({type(exc).__name__}); "
                f"trying again in {delay:.0f} s",
                err=True,
            )
            time.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
