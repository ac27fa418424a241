"""A full export volume (issue 15, item 4), simulated the way any CI machine can: the
worker runs under RLIMIT_FSIZE (the per-file size limit; a write past it fails with
EFBIG, as a full disk fails with ENOSPC). The build fails saying so, its partial files
are removed, the watermark stays, and the next run with room includes everything.
(tests/integration/runs/test_incremental_runs.py fills a real tmpfs where it may mount
one, with an incremental type whose watermark must not move.)"""

from __future__ import annotations

import re
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from tests.fixtures.live_server import ROOT, worker_environment
from tests.integration.runs.conftest import latest
from webapp.extensions import db
from webapp.models.runs import CreationStatus
from webapp.models.syncs import Sync
from webapp.services import runs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MESSAGE = re.compile(
    r"^No space left on the export volume \(at least [\d.]+ (B|KiB|MiB|GiB) needed, "
    r"[\d.]+ (B|KiB|MiB|GiB) free\)\."
)


def file_size_limit(app: Flask) -> int:
    """Room for the worker's own files (a SQLite test database grows too), well below
    the export the test makes."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    database = Path(url.database or "") if url.get_backend_name() == "sqlite" else None
    return (database.stat().st_size if database else 0) + 2 * 1024 * 1024


def limited(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process

    return apply


def test_a_full_export_volume_fails_the_build_clearly_and_loses_nothing(
    app: Flask, make_sync: Any, run_jobs: Any, tmp_path: Path
) -> None:
    limit = file_size_limit(app)
    width = 500
    sync = make_sync(rows=(limit + 4 * 1024 * 1024) // width, row_width=width)
    watermark_before = sync.watermark
    runs.start_manual_run(sync, user=None, actor="test")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "worker", "--burst"],
            cwd=ROOT,
            env=worker_environment(app),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limited(limit),
            timeout=300,
        )
    assert done.returncode == 0, log.read_text()
    failed = latest(sync)
    assert failed.creation_status == CreationStatus.FAILED, log.read_text()
    assert MESSAGE.match(failed.error or ""), failed.error
    assert "Errno" not in (failed.error or "")
    assert failed.files == []
    run_folder = Path(app.config["EXPORT_DIR"]) / f"sync-{sync.id}" / f"run-{failed.id}"
    assert not run_folder.exists()  # the partial file is gone
    assert db.session.get(Sync, sync.id).watermark == watermark_before

    # Room again: the next run builds the whole file.
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    again = latest(sync)
    assert again.creation_status == CreationStatus.SUCCEEDED, again.error
    assert again.rows_written == sync.options["rows"]
