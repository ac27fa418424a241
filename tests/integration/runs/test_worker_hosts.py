"""A worker on another host, started exactly as the README's Production section says: its
command line and the environment variables it names, and nothing the web app's process
holds (another instance folder, so the secrets key must come from the environment, and
the install's queue prefix from the shared database). It delivers a run to the test sshd."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.integration.runs.conftest import latest, received
from webapp.models.runs import CreationStatus, TransferStatus
from webapp.services import runs
from webapp.services.installation import queue_prefix
from webapp.services.secrets import generate_key

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
KEY = generate_key()


def readme_worker() -> tuple[list[str], set[str]]:
    """The README's worker command line, and the environment variables its paragraph names."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(
        r"^Workers can run on any number of other hosts.*?\n\n```sh\n(?P<command>[^\n]*)\n```",
        readme,
        re.M | re.S,
    )
    assert match, "README.md: no worker paragraph followed by its command"
    paragraph = match.group(0)
    command = shlex.split(match.group("command"), comments=True)
    names = set(re.findall(r"`((?:LOYALTY_SYNC_)?[A-Z][A-Z_]*_[A-Z_]+)`", paragraph))
    return command, names


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The web side of the deployment: a secrets key of its own; the prefix is derived."""
    return {**app_config, "SECRETS_KEYS": [KEY]}


def test_worker_started_as_the_readme_says_delivers_a_run(
    app: Flask, make_sync: Any, sftp_destination: Any, tmp_path: Path
) -> None:
    command, names = readme_worker()
    assert command == ["flask", "--app", "wsgi", "worker"]
    config = app.config
    readme_environment = {
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": config["REDIS_URL"],
        "LOYALTY_SYNC_SECRETS_KEYS": KEY,
        "LOYALTY_SYNC_EXPORT_DIR": config["EXPORT_DIR"],
    }
    assert names == set(readme_environment), "the README names other variables than this test"
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOYALTY_SYNC_", "FLASK_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env = {
        **inherited,
        **readme_environment,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # the installed `flask`
        # Test-only: its own instance folder (not the checkout's), and the test sync type.
        "LOYALTY_SYNC_INSTANCE_PATH": str(tmp_path / "worker-host"),
        "LOYALTY_SYNC_EXTRA_TYPES": "tests.fixtures.sync_types:PLATFORM_TEST_TYPE",
        "PYTHONUNBUFFERED": "1",
    }

    sync = make_sync(rows=25)
    _, folder = sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while True:
                instance = latest(sync)
                if instance.transfers and all(
                    TransferStatus(t.status).is_final for t in instance.transfers
                ):
                    break
                assert worker.poll() is None, f"the worker exited:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"no delivery:\n{log.read_text()}"
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    output = log.read_text()
    assert instance.creation_status == CreationStatus.SUCCEEDED, output
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED], output
    assert received(folder) == {f.name: f.sha256 for f in instance.deliverables}
    prefix = queue_prefix()
    assert prefix.startswith("lsync-") and len(prefix) == len("lsync-") + 12
    assert f"Worker on {prefix}-ticks, {prefix}-builds, {prefix}-transfers" in output
