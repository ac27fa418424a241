"""One installation, one namespace (issue 15, item 1): two installs with two databases on
one Redis each run a sync end to end; neither takes, sees or touches the other's work,
and every Redis key either names one install's prefix or is RQ's own bookkeeping."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from rq import Queue, SimpleWorker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jobs.worker import install_worker, register_tick, tick_id
from tests.integration.runs.conftest import latest, received
from webapp import create_app
from webapp.extensions import db
from webapp.models.runs import CreationStatus, TransferStatus
from webapp.models.syncs import Sync
from webapp.services import progress, runs
from webapp.services.dispatch import queue_names, worker_queue_names
from webapp.services.installation import BadPrefix, installation_id, queue_prefix
from webapp.services.redis_client import redis_client

pytestmark = pytest.mark.integration

# RQ's own keys, one per Redis whatever the install: the registry of all workers and the
# set of all queue names (each member names its install's queue), and the marker of its
# last sweep of job groups (a timestamp, no work).
RQ_SHARED = {"rq:workers", "rq:queues", "rq:clean_groups"}


@pytest.fixture
def second_database(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    """A second install's own, migrated database (SQLite file or PostgreSQL database)."""
    url = make_url(migrated_database)
    admin = None
    name = ""
    if url.get_backend_name() == "sqlite":
        other = f"sqlite:///{tmp_path / 'second.db'}"
    else:
        name = f"{url.database}_second_{uuid.uuid4().hex[:6]}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        other = url.set(database=name).render_as_string(hide_password=False)
    migrate_app = create_app(
        {"SQLALCHEMY_DATABASE_URI": other, "INSTANCE_PATH": str(tmp_path / "migrate")}
    )
    with migrate_app.app_context():
        upgrade()
        db.engine.dispose()
    yield other
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def second_app(app_config: dict[str, Any], second_database: str, tmp_path: Path) -> Iterator[Flask]:
    instance = tmp_path / "second-instance"
    instance.mkdir()
    other = create_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": second_database, "INSTANCE_PATH": str(instance)}
    )
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def work(app: Flask) -> None:
    """Everything queued for ``app``'s install, as its `flask worker` would take it."""
    with app.app_context():
        install_worker(SimpleWorker).work(burst=True, with_scheduler=False)


def test_two_installs_on_one_redis_never_see_each_others_work(
    app: Flask, second_app: Flask, make_sync: Any, sftp_destination: Any
) -> None:
    first = queue_prefix()
    with second_app.app_context():
        second = queue_prefix()
        assert len(installation_id()) == 32
    sync_a = make_sync("First install")
    _, folder_a = sftp_destination(sync_a)
    run_a = runs.start_manual_run(sync_a, user=None, actor="test")
    with second_app.app_context():
        sync_b = make_sync("Second install")
        _, folder_b = sftp_destination(sync_b)
        run_b = runs.start_manual_run(sync_b, user=None, actor="test").id
        b_sync = sync_b.id
        register_tick()
        b_queues = worker_queue_names()
    register_tick()

    # The first install's worker runs its own work only: the second's build still waits.
    work(app)
    with second_app.app_context():
        assert Queue(queue_names()[0], connection=redis_client()).count == 1
        assert latest(db.session.get(Sync, b_sync)).creation_status == CreationStatus.PENDING
    instance_a = latest(sync_a)
    assert [t.status for t in instance_a.transfers] == [TransferStatus.SUCCEEDED]
    work(second_app)
    with second_app.app_context():
        instance_b = latest(db.session.get(Sync, b_sync))
        assert [t.status for t in instance_b.transfers] == [TransferStatus.SUCCEEDED]
        assert received(folder_b) == {f.name: f.sha256 for f in instance_b.deliverables}
        b_progress = progress.read("instance", run_b)
        b_tick = tick_id()
    assert received(folder_a) == {f.name: f.sha256 for f in instance_a.deliverables}
    # Same row ids in both databases (run 1, transfer 1): each reads its own progress.
    assert run_a.id == run_b
    assert progress.read("instance", run_a.id)["phase"] == "done"
    assert b_progress["phase"] == "done"

    assert first != second
    assert first.startswith("lsync-") and second.startswith("lsync-")
    keys = sorted(k.decode() for k in redis_client().keys("*"))
    owners: dict[str, list[str]] = {first: [], second: [], "rq": []}
    for key in keys:
        mine = [p for p in (first, second) if p in key]
        assert len(mine) <= 1, key
        if mine:
            owners[mine[0]].append(key)
        else:
            assert key in RQ_SHARED, f"{key} names no install"
            owners["rq"].append(key)
    for prefix in (first, second):
        found = owners[prefix]
        assert f"{prefix}:progress:instance:1" in found
        assert f"{prefix}:scheduler:scheduled_jobs" in found
        assert any(k.startswith(f"rq:job:{prefix}-build-1-") for k in found)
        assert any(k.startswith(f"rq:job:{prefix}-transfer-1-") for k in found)
    assert tick_id() != b_tick
    queues = {m.decode() for m in redis_client().smembers("rq:queues")}
    assert queues <= {f"rq:queue:{q}" for q in worker_queue_names() + b_queues}


def test_a_configured_prefix_is_checked(app_config: dict[str, Any]) -> None:
    with pytest.raises(BadPrefix, match="QUEUE_PREFIX"):
        create_app({**app_config, "QUEUE_PREFIX": "two words"})


def test_the_prefix_comes_from_the_database_not_the_host(app: Flask, tmp_path: Path) -> None:
    """Another process (a worker on another host: another instance folder, no prefix
    setting) of the same install derives the same prefix."""
    elsewhere = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "INSTANCE_PATH": str(tmp_path / "other-host"),
        }
    )
    assert queue_prefix(elsewhere) == queue_prefix() == f"lsync-{installation_id()[:12]}"
    assert not os.environ.get("LOYALTY_SYNC_QUEUE_PREFIX")
    with elsewhere.app_context():
        db.engine.dispose()


def test_start_up_leaves_no_connection_open(app: Flask, tmp_path: Path) -> None:
    """Reading the install's id at start-up closes its connection again: a process that
    forks next (gunicorn --preload, RQ work horses) must not share it, and an app dropped
    unused must not leave an open PostgreSQL connection to the garbage collector."""
    started = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "INSTANCE_PATH": str(tmp_path / "started"),
        }
    )
    assert queue_prefix(started).startswith("lsync-")
    with started.app_context():
        assert db.engine.pool.checkedin() == 0
        assert db.engine.pool.checkedout() == 0
