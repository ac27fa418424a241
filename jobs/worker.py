"""``flask worker`` and ``flask scheduler``: the RQ worker and the minute tick.

The worker creates the app once, pushes its context (forked work horses inherit it) and
makes each forked child drop the inherited database connections, since a connection
must never be shared across processes. The scheduler registers the tick under one
stable id, replacing an older registration, so restarts and a second scheduler never
double it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from webapp.extensions import db
from webapp.services.dispatch import TICK_JOB, queue_names
from webapp.services.redis_client import redis_client

TICK_ID = "loyalty-sync-tick"
TICK_INTERVAL_SECONDS = 60


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking.")
@with_appcontext
def worker_command(burst: bool, simple: bool) -> None:
    """Run an RQ worker on the build and transfer queues."""
    from rq import SimpleWorker, Worker

    engine = db.engine
    engine.dispose()
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    worker_class = SimpleWorker if simple else Worker
    names = list(queue_names())
    worker = worker_class(names, connection=redis_client())
    click.echo(f"Worker on {', '.join(names)}")
    worker.work(burst=burst, with_scheduler=False)


def register_tick() -> None:
    from rq_scheduler import Scheduler

    builds, _ = queue_names()
    scheduler = Scheduler(queue_name=builds, connection=redis_client())
    for job in scheduler.get_jobs():
        if job.id == TICK_ID:
            scheduler.cancel(job)
    scheduler.schedule(
        scheduled_time=datetime.now(UTC),
        func=TICK_JOB,
        interval=TICK_INTERVAL_SECONDS,
        repeat=None,
        id=TICK_ID,
        result_ttl=600,
        timeout=600,
        description="loyalty sync scheduler tick",
    )


@click.command("scheduler")
@click.option("--interval", default=5, show_default=True, help="Seconds between scheduler polls.")
@with_appcontext
def scheduler_command(interval: int) -> None:
    """Run rq-scheduler with the minute tick registered."""
    from rq_scheduler import Scheduler

    register_tick()
    builds, _ = queue_names()
    db.engine.dispose()
    click.echo(f"Scheduler: tick every {TICK_INTERVAL_SECONDS} s on {builds}")
    Scheduler(queue_name=builds, connection=redis_client(), interval=interval).run()
