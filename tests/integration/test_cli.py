from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from exporters.base import SyncType
from webapp.extensions import db
from webapp.models.syncs import Sync
from webapp.models.users import Role
from webapp.services import users
from webapp.services.installation import queue_prefix


def test_users_create_reads_password_from_stdin(runner: Any) -> None:
    result = runner.invoke(
        args=["users", "create", "--email", "ops@example.com", "--role", "sync_manager"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = users.find_by_email("ops@example.com")
    assert user is not None and user.role == Role.SYNC_MANAGER
    assert users.authenticate("ops@example.com", "a-long-password") is not None


def test_users_create_unknown_role_fails_cleanly(runner: Any) -> None:
    result = runner.invoke(
        args=["users", "create", "--email", "ops@example.com", "--role", "root"],
        input="a-long-password\n",
    )
    assert result.exit_code == 2
    assert "Unknown role 'root'" in result.output
    assert users.find_by_email("ops@example.com") is None


def test_users_create_duplicate_fails_cleanly(runner: Any) -> None:
    args = ["users", "create", "--email", "ops@example.com", "--role", "viewer"]
    assert runner.invoke(args=args, input="a-long-password\n").exit_code == 0
    result = runner.invoke(args=args, input="a-long-password\n")
    assert result.exit_code == 2 and "already exists" in result.output


def test_sync_create_and_list(runner: Any, platform_test_type: SyncType) -> None:
    types = runner.invoke(args=["sync", "types", "--json"])
    assert platform_test_type.key in [t["key"] for t in json.loads(types.output)]
    result = runner.invoke(
        args=["sync", "create", "--type", platform_test_type.key, "--name", "Nightly"]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(args=["sync", "list", "--json"]).output)
    assert [(s["name"], s["type"], s["enabled"]) for s in listed] == [
        ("Nightly", platform_test_type.key, False)
    ]


def test_sync_create_bad_input_changes_nothing(runner: Any, platform_test_type: SyncType) -> None:
    bad_type = runner.invoke(args=["sync", "create", "--type", "nope", "--name", "X"])
    assert bad_type.exit_code == 2 and "Unknown sync type 'nope'" in bad_type.output
    bad_param = runner.invoke(
        args=[
            "sync",
            "create",
            "--type",
            platform_test_type.key,
            "--name",
            "X",
            "--param",
            "descriptor_id=3",
        ]
    )
    assert bad_param.exit_code == 2 and "takes no parameter" in bad_param.output
    malformed = runner.invoke(
        args=["sync", "create", "--type", platform_test_type.key, "--name", "X", "--param", "oops"]
    )
    assert malformed.exit_code == 2
    assert db.session.scalar(select(func.count()).select_from(Sync)) == 0


def test_bootstrap_creates_first_support_user_once(runner: Any) -> None:
    first = runner.invoke(args=["ops", "bootstrap"])
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    second = runner.invoke(args=["ops", "bootstrap"])
    assert second.exit_code == 0 and "password:" not in second.output


def test_sync_export_writes_one_runs_files_and_records_nothing(
    runner: Any, platform_test_type: SyncType, tmp_path: Any
) -> None:
    from webapp.models.runs import SyncFile, SyncInstance
    from webapp.services.dispatch import queue
    from webapp.services.redis_client import redis_client

    sync = Sync(type_key=platform_test_type.key, name="Export only", options={"rows": 4})
    db.session.add(sync)
    db.session.commit()
    out = tmp_path / "out"
    result = runner.invoke(args=["sync", "export", str(sync.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (written,) = out.iterdir()
    assert written.name.startswith("PlatformTest_")
    assert written.read_text().splitlines() == ["Id|Name", *[f"{i}|row {i}" for i in range(1, 5)]]
    assert f"{written}  4 rows" in result.output
    assert db.session.scalar(select(func.count()).select_from(SyncInstance)) == 0
    assert db.session.scalar(select(func.count()).select_from(SyncFile)) == 0
    assert queue("builds").count == queue("transfers").count == 0
    assert redis_client().keys(f"{queue_prefix()}:progress:*") == []


def test_sync_export_of_a_missing_sync_fails_cleanly(runner: Any, tmp_path: Any) -> None:
    result = runner.invoke(args=["sync", "export", "999", "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "No sync with id 999" in result.output


def test_worker_and_scheduler_are_flask_plugins(app: Any, tmp_path: Any) -> None:
    """`flask worker` and `flask scheduler` come from the `flask.commands` entry points
    (jobs.worker), not from the web app, which never imports the jobs package."""
    plugins = {ep.name: ep.value for ep in entry_points(group="flask.commands")}
    assert plugins["worker"] == "jobs.worker:worker_command"
    assert plugins["scheduler"] == "jobs.worker:scheduler_command"
    assert "worker" not in app.cli.commands and "scheduler" not in app.cli.commands
    env = {**os.environ, "LOYALTY_SYNC_INSTANCE_PATH": str(tmp_path / "instance")}
    shown = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "--help"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"^ +worker +Run an RQ worker on the build and transfer queues", shown, re.M)
    assert re.search(r"^ +scheduler +Run rq-scheduler with the minute tick", shown, re.M)
