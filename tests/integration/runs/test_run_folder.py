"""Issue 17, item 12: a run folder that cannot be made fails the run at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.integration.runs.conftest import latest
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import CreationStatus
from webapp.models.syncs import Sync
from webapp.services import runs

pytestmark = pytest.mark.integration


def test_a_run_folder_that_cannot_be_made_fails_the_run_and_frees_the_lease(
    app: Flask, make_sync: Any, run_jobs: Any
) -> None:
    sync = make_sync("Blocked folder")
    # A file where the sync's folder belongs: mkdir fails whatever user runs the tests.
    blocker = Path(app.config["EXPORT_DIR"]) / f"sync-{sync.id}"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("in the way")
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.FAILED
    assert instance.error
    fresh = db.session.get(Sync, sync.id)
    assert fresh is not None and fresh.build_lease_instance_id is None
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.sync_id == sync.id)
    ).all()
    assert "run.failed" in actions
    # The next run builds once the way is clear.
    blocker.unlink()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    assert latest(sync).creation_status == CreationStatus.SUCCEEDED
