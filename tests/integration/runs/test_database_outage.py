"""Database outages (issue 15, item 3): PostgreSQL stops in the middle of a build and
starts again a little later.
The web app answers the next request (pre-ping replaces the dead pooled connections),
the build that hit the restart fails saying so (never left "running"), its lease is
free, and the same worker process builds the next run."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from tests.fixtures.live_server import start_worker
from tests.fixtures.postgres_server import PrivatePostgres, private_postgres  # noqa: F401
from tests.integration.runs.conftest import latest
from webapp import create_app
from webapp.extensions import db
from webapp.models.runs import CreationStatus
from webapp.models.syncs import Sync
from webapp.services import runs

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def private_database(private_postgres: PrivatePostgres, tmp_path: Path) -> str:
    admin = create_engine(private_postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "lsync"'))
    admin.dispose()
    url = private_postgres.url.rsplit("/", 1)[0] + "/lsync"
    migrate = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "m")})
    with migrate.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app_config(app_config: dict[str, Any], private_database: str) -> dict[str, Any]:
    return {**app_config, "SQLALCHEMY_DATABASE_URI": private_database}


def wait_for(condition: Callable[[], bool], what: str, log: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        if condition():
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log()}"
        time.sleep(0.1)


def test_postgres_restart_mid_build(
    app: Flask,
    private_postgres: PrivatePostgres,
    make_sync: Any,
    make_user: Any,
    login: Any,
    tmp_path: Path,
) -> None:
    client = login(make_user("sync_manager"))
    sync = make_sync(rows=40_000, delay_ms=25)  # a build of about ten seconds
    runs.start_manual_run(sync, user=None, actor="test")
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: latest(sync).creation_status == CreationStatus.RUNNING,
            "the build to start",
            worker.output,
        )
        db.session.remove()  # as at the end of a request: its connection back in the pool
        private_postgres.stop()  # every connection is cut, the worker's included
        # The build ends its export and cannot record anything: it waits for the database.
        deadline = time.monotonic() + 120
        while "The database is not answering" not in worker.output():
            assert time.monotonic() < deadline, f"the build did not wait:\n{worker.output()}"
            assert worker.process.poll() is None, worker.output()
            time.sleep(0.2)
        private_postgres.start()

        # The web app's pooled connections died with the server: the next page works.
        page = client.get("/", follow_redirects=True)
        assert page.status_code == 200 and "<h1>Log in</h1>" not in page.text, page.text

        wait_for(
            lambda: latest(sync).creation_status.is_final,
            "the cut build to end",
            worker.output,
        )
        failed = latest(sync)
        assert failed.creation_status == CreationStatus.FAILED
        assert (failed.error or "").startswith(
            "The database connection was lost while this run was built ("
        ), failed.error
        assert db.session.get(Sync, sync.id).build_lease_instance_id is None

        # The same worker process builds the next run.
        sync.options = {"rows": 5}
        db.session.commit()
        runs.start_manual_run(sync, user=None, actor="test")
        wait_for(lambda: latest(sync).creation_status.is_final, "the next build", worker.output)
        assert latest(sync).creation_status == CreationStatus.SUCCEEDED, latest(sync).error
        assert worker.process.poll() is None, worker.output()
    finally:
        worker.stop()
