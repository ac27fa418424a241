"""The scheduler's minute tick in a real Redis: one registration per deployment, never
doubled by restarts, and never cancelled by another deployment sharing the Redis."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq.job import Job
from rq_scheduler import Scheduler

from jobs.worker import LEGACY_BUILDS, LEGACY_TICK_ID, install_scheduler, register_tick, tick_id
from tests.fixtures.live_server import ROOT, worker_environment
from webapp import create_app
from webapp.services.dispatch import TICK_JOB, queue_names, tick_queue_name
from webapp.services.installation import queue_prefix
from webapp.services.redis_client import redis_client

pytestmark = pytest.mark.integration


def scheduled_ticks() -> dict[str, str]:
    """This install's scheduled jobs, and those left in rq-scheduler's shared set by
    earlier releases: id -> queue."""
    shared = Scheduler(queue_name=queue_names()[0], connection=redis_client())
    return {job.id: job.origin for s in (install_scheduler(), shared) for job in s.get_jobs()}


@pytest.fixture
def other_deployment(app_config: dict[str, Any]) -> Iterator[Flask]:
    """A second deployment on the same Redis, told apart by its queue prefix."""
    other = create_app({**app_config, "QUEUE_PREFIX": "other-deployment"})
    yield other
    with other.app_context():
        redis_client().close()


def test_tick_id_carries_the_queue_prefix(app: Flask, other_deployment: Flask) -> None:
    assert tick_id() == f"{queue_prefix()}-tick"
    assert queue_prefix().startswith("lsync-")  # derived from the installation id
    with other_deployment.app_context():
        assert tick_id() == "other-deployment-tick"


def test_tick_registration_is_never_doubled(app: Flask) -> None:
    register_tick()
    register_tick()  # a restart, or a second scheduler process
    assert scheduled_ticks() == {tick_id(): tick_queue_name()}


def test_two_deployments_on_one_redis_keep_their_own_ticks(
    app: Flask, other_deployment: Flask
) -> None:
    register_tick()
    with other_deployment.app_context():
        register_tick()
        other_id, other_ticks = tick_id(), tick_queue_name()
        other_job = Job.fetch(other_id, connection=redis_client())
        other_created = other_job.created_at
        assert scheduled_ticks() == {other_id: other_ticks}  # its own set
    assert scheduled_ticks() == {tick_id(): tick_queue_name()}
    assert other_ticks == "other-deployment-ticks"

    register_tick()  # this deployment's scheduler restarts: it replaces only its own tick
    assert scheduled_ticks() == {tick_id(): tick_queue_name()}
    with other_deployment.app_context():
        # the other deployment's registration was not touched, let alone re-created
        assert Job.fetch(other_id, connection=redis_client()).created_at == other_created
        assert Job.fetch(other_id, connection=redis_client()).func_name == TICK_JOB


def legacy_tick(builds: str) -> None:
    """The tick as the previous release registered it: a fixed id, whatever the prefix."""
    Scheduler(queue_name=builds, connection=redis_client()).schedule(
        scheduled_time=datetime.now(UTC),
        func=TICK_JOB,
        interval=60,
        repeat=None,
        id=LEGACY_TICK_ID,
    )


def test_upgrade_replaces_this_deployments_legacy_tick(app: Flask, other_deployment: Flask) -> None:
    with other_deployment.app_context():
        other_builds = queue_names()[0]
        legacy_tick(other_builds)  # registered by the other deployment's previous release
        register_tick()  # its upgraded scheduler starts
        assert scheduled_ticks() == {"other-deployment-tick": "other-deployment-ticks"}


def test_upgrade_from_the_old_default_prefix_drops_its_orphaned_tick(app: Flask) -> None:
    legacy_tick(LEGACY_BUILDS)  # the old default prefix; no worker listens there any more
    register_tick()
    assert scheduled_ticks() == {tick_id(): tick_queue_name()}


def test_upgrade_keeps_another_deployments_legacy_tick(app: Flask, other_deployment: Flask) -> None:
    from rq import Queue, SimpleWorker

    legacy_tick(LEGACY_BUILDS)  # another install, not yet upgraded: its worker listens
    worker = SimpleWorker(
        [Queue(LEGACY_BUILDS, connection=redis_client())], connection=redis_client()
    )
    worker.register_birth()
    try:
        with other_deployment.app_context():
            register_tick()
            assert scheduled_ticks() == {
                LEGACY_TICK_ID: LEGACY_BUILDS,
                "other-deployment-tick": "other-deployment-ticks",
            }
    finally:
        worker.register_death()


def test_flask_scheduler_registers_the_tick(app: Flask, tmp_path: Path) -> None:
    """`flask scheduler` (a Flask plugin command) as the Procfile starts it."""
    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "scheduler", "--interval", "1"],
            cwd=ROOT,
            env=worker_environment(app),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        started = f"Scheduler: tick every 60 s on {tick_queue_name()} (id {tick_id()})"
        try:
            deadline = time.monotonic() + 60
            while started not in log.read_text() and process.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            assert process.poll() is None, log.read_text()
        finally:
            process.terminate()
            process.wait(timeout=20)
    assert scheduled_ticks() == {tick_id(): tick_queue_name()}
