"""Redis restarts (issue 17, item 8): the scheduler outlives them and registers its tick
again, the web app and the CLI turn an outage into a clear message (the run is saved and
starts once Redis is back), and the tick never waits behind a build."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import SimpleWorker
from rq.job import Job

from jobs.tick import QUEUED_LATE_NOTE, tick
from jobs.worker import install_scheduler, install_worker, tick_id
from loyalty.db import utcnow
from tests.conftest import PASSWORD
from tests.fixtures.live_server import ROOT, worker_environment
from tests.fixtures.redis_server import RestartableRedis
from tests.integration.runs.conftest import latest, received
from webapp.models.runs import CreationStatus, TransferStatus
from webapp.services import runs
from webapp.services.dispatch import TICK_JOB, queue, tick_queue_name
from webapp.services.redis_client import redis_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def app_config(app_config: dict[str, Any], restartable_redis: RestartableRedis) -> dict[str, Any]:
    return {**app_config, "REDIS_URL": restartable_redis.url}


@pytest.fixture(autouse=True)
def revive_redis(app: Flask, restartable_redis: RestartableRedis) -> Iterator[None]:
    """Torn down before the app (which flushes Redis): start a killed Redis again."""
    yield
    restartable_redis.ensure_running()


def wait_until(condition: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()}"
        time.sleep(0.1)


def tick_registered() -> bool:
    try:
        return tick_id() in install_scheduler()
    except Exception:
        return False


def test_scheduler_survives_a_redis_restart_and_registers_its_tick_again(
    app: Flask, restartable_redis: RestartableRedis, tmp_path: Path
) -> None:
    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "scheduler", "--interval", "1"],
            cwd=ROOT,
            env=worker_environment(app),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(tick_registered, "the tick", log)
            restartable_redis.kill()
            wait_until(lambda: "Redis is not answering" in log.read_text(), "the back-off", log)
            assert process.poll() is None, log.read_text()
            restartable_redis.restart()  # empty: the tick is gone
            wait_until(tick_registered, "the tick registered again", log)
            assert process.poll() is None, log.read_text()
            # And it still moves the tick to its queue once due.
            wait_until(
                lambda: queue("builds").connection.llen(f"rq:queue:{tick_queue_name()}") > 0,
                "a tick in the ticks queue",
                log,
            )
        finally:
            process.terminate()
            process.wait(timeout=20)
    assert "registered it again" in log.read_text()
    assert "Traceback" not in log.read_text()


def test_process_new_sync_while_redis_is_down_saves_the_run_and_says_so(
    app: Flask,
    restartable_redis: RestartableRedis,
    make_user: Any,
    login: Any,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
) -> None:
    sync = make_sync()
    _, folder = sftp_destination(sync)
    client = login(make_user("sync_manager"))
    restartable_redis.kill()
    response = client.post(f"/syncs/{sync.id}/runs", follow_redirects=True)
    assert response.status_code == 200, response.text
    assert "is saved, but the job queue (Redis) is not answering" in response.text
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.PENDING
    assert instance.job_id is None
    assert instance.note == runs.QUEUE_DOWN_NOTE

    restartable_redis.restart()
    assert tick(utcnow() + timedelta(minutes=2))["enqueued"] == 1  # the minute sweep
    assert latest(sync).note == QUEUED_LATE_NOTE
    run_jobs()
    instance = latest(sync)
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED]
    assert received(folder) == {f.name: f.sha256 for f in instance.deliverables}


def test_a_page_that_needs_redis_gets_a_clear_503(
    app: Flask,
    restartable_redis: RestartableRedis,
    make_user: Any,
    login: Any,
    make_sync: Any,
    sshd_server: Any,
) -> None:
    """Any other view that needs Redis (Test connection queues a job and keeps its
    result there): a clear message, never a crash page."""
    sync = make_sync()
    client = login(make_user("sync_manager"))
    restartable_redis.kill()
    response = client.post(
        f"/syncs/{sync.id}/destinations/test",
        data={
            "name": "Probe",
            "protocol": "sftp",
            "host": sshd_server.host,
            "port": str(sshd_server.port),
            "username": sshd_server.username,
            "password": sshd_server.password,
            "password_confirm": sshd_server.password,
            "directory": "/",
        },
    )
    assert response.status_code == 503, response.text
    assert "The job queue (Redis) is not answering" in response.text


def test_cli_that_needs_redis_exits_75_with_one_line(
    app: Flask, restartable_redis: RestartableRedis, make_sync: Any, tmp_path: Path
) -> None:
    sync = make_sync()
    restartable_redis.kill()
    env = worker_environment(app)
    for args in (
        ["sync", "run", str(sync.id)],
        ["worker", "--burst"],
        ["sync", "run", str(sync.id), "--inline"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 75, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        assert "Redis at 127.0.0.1:" in done.stderr and "is not answering" in done.stderr
    assert (
        "saved; it starts when Redis is back"
        in subprocess.run(
            [sys.executable, "-m", "flask", "sync", "run", str(sync.id)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        ).stderr
    )
    assert latest(sync).creation_status == CreationStatus.PENDING


def test_the_tick_does_not_wait_behind_builds(
    app: Flask, make_sync: Any, sftp_destination: Any
) -> None:
    sync = make_sync()
    build = runs.start_manual_run(sync, user=None, actor="test")
    assert build.job_id is not None
    ticked = install_scheduler().connection  # the tick, queued after the build
    tick_job = (
        queue("builds")
        .__class__(tick_queue_name(), connection=ticked)
        .enqueue(TICK_JOB, job_id=f"{tick_id()}-now")
    )
    install_worker(SimpleWorker).work(burst=True, with_scheduler=False)
    tick_done = Job.fetch(tick_job.id, connection=redis_client())
    build_done = Job.fetch(build.job_id, connection=redis_client())
    assert tick_done.ended_at is not None and build_done.started_at is not None
    assert tick_done.ended_at <= build_done.started_at


def test_login_while_redis_is_down_works_and_is_still_throttled(
    app: Flask, restartable_redis: RestartableRedis, client: Any, make_user: Any
) -> None:
    """The login throttle keeps its counters in Redis; with Redis gone the login page is
    not a 500, the right password still logs in, and the limits fall back to the
    process's memory rather than switching off."""
    user = make_user("sync_manager")
    restartable_redis.kill()
    right = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert right.status_code == 302, right.text
    client.post("/logout")
    codes = [
        client.post(
            "/login", data={"email": user.email, "password": "wrong-wrong-wrong"}
        ).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429, 429]
