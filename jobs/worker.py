"""``flask worker`` and ``flask scheduler``: the RQ worker and the minute tick.

Both are Flask CLI plugins, registered by the ``flask.commands`` entry points in
pyproject.toml (the web app never imports this package), so ``flask --app wsgi worker``
works once the project is installed.

The worker creates the app once, pushes its context (forked work horses inherit it) and
makes each forked child drop the inherited database connections, since a connection
must never be shared across processes. The scheduler registers the tick under the
deployment's tick id (its ``QUEUE_PREFIX``), replacing only its own older registration,
so restarts and a second scheduler never double it, and deployments sharing one Redis
never cancel each other's tick.
"""

from __future__ import annotations

import importlib
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import configure_mappers

from webapp.extensions import db
from webapp.services.dispatch import TICK_JOB, queue_names
from webapp.services.redis_client import redis_client

if TYPE_CHECKING:
    from rq_scheduler import Scheduler

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
TICK_INTERVAL_SECONDS = 60
WORKER_TTL_SECONDS = 60


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
    worker_class = SimpleWorker if simple else Worker
    names = list(queue_names())
    # worker_ttl 60: an idle worker heartbeats every 45 s, so /readyz can ask for a worker
    # seen in the last minute (RQ's default 420 s heartbeats an idle one every 405 s).
    worker = worker_class(names, connection=redis_client(), worker_ttl=WORKER_TTL_SECONDS)
    click.echo(f"Worker on {', '.join(names)}")
    worker.work(burst=burst, with_scheduler=False)


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
    """This deployment's tick job id: ``<QUEUE_PREFIX>-tick``.

    rq-scheduler keeps the scheduled jobs of everyone on a Redis in one set, and RQ job
    ids are global there, so the id carries the prefix that already keeps two
    deployments' queues apart. With the default prefix it is ``loyalty-sync-tick``, the
    id earlier releases used, so upgrading replaces the old registration.
    """
    return f"{current_app.config['QUEUE_PREFIX']}-tick"


def register_tick() -> None:
    """Schedule the minute tick, replacing this deployment's earlier registration only."""
    from rq_scheduler import Scheduler

    builds, _ = queue_names()
    scheduler = Scheduler(queue_name=builds, connection=redis_client())
    scheduler.cancel(tick_id())
    _cancel_legacy_tick(scheduler, builds)
    scheduler.schedule(
        scheduled_time=datetime.now(UTC),
        func=TICK_JOB,
        interval=TICK_INTERVAL_SECONDS,
        repeat=None,
        id=tick_id(),
        result_ttl=600,
        timeout=600,
        description=f"loyalty sync scheduler tick ({current_app.config['QUEUE_PREFIX']})",
    )


def _cancel_legacy_tick(scheduler: Scheduler, builds: str) -> None:
    """Drop a tick that an earlier release registered under the fixed legacy id for this
    deployment (its jobs go to this deployment's build queue); another's is left alone."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if tick_id() == LEGACY_TICK_ID or LEGACY_TICK_ID not in scheduler:
        return
    try:
        job = Job.fetch(LEGACY_TICK_ID, connection=redis_client())
    except NoSuchJobError:
        return
    if job.origin == builds:
        scheduler.cancel(job)
        job.delete()


@click.command("scheduler")
@click.option("--interval", default=5, show_default=True, help="Seconds between scheduler polls.")
@with_appcontext
def scheduler_command(interval: int) -> None:
    """Run rq-scheduler with the minute tick registered."""
    from rq_scheduler import Scheduler

    register_tick()
    builds, _ = queue_names()
    db.engine.dispose()
    click.echo(f"Scheduler: tick every {TICK_INTERVAL_SECONDS} s on {builds} (id {tick_id()})")
    Scheduler(queue_name=builds, connection=redis_client(), interval=interval).run()
