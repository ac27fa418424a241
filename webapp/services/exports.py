"""Running a sync's exporter: the part of a run that writes its original files.

``export_sync`` is the one place that turns a sync's settings and the app's configuration
into an ``ExportContext``; the build job (``jobs.build``) calls it inside its read
snapshot and heartbeat, with the run's id and name check, and ``flask sync export`` calls
``export_once``, which writes the files one run would build now and records nothing (no
run, no watermark move, no delivery).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import Connection
from sqlalchemy.orm import Session

import exporters
from exporters.base import ExportContext, ExportResult
from loyalty.db import utcnow
from loyalty.engine import read_snapshot
from webapp.extensions import db
from webapp.models.syncs import Sync


def export_sync(
    app: Flask,
    sync: Sync,
    connection: Connection,
    out_dir: Path,
    run_started_at: datetime,
    instance_id: int | None = None,
    name_taken: Callable[[str], bool] = lambda _name: False,
    report: Callable[[int], None] = lambda _rows: None,
) -> ExportResult:
    """Run the sync's exporter on ``connection`` (inside a read snapshot) into ``out_dir``."""
    sync_type = exporters.get(sync.type_key)
    session = Session(bind=connection)
    try:
        context = ExportContext(
            session=session,
            sync_id=sync.id,
            instance_id=instance_id,
            scope=dict(sync.scope or {}),
            options={**sync_type.default_options(), **(sync.options or {})},
            run_started_at=run_started_at,
            timezone=sync.timezone,
            out_dir=out_dir,
            watermark=sync.watermark,
            database_number=int(app.config["DATABASE_NUMBER"]),
            database_timezone=app.config["DATABASE_TIMEZONE"],
            corporate_timezone=app.config["CORPORATE_TIMEZONE"],
            name_taken=name_taken,
            progress=report,
        )
        result: ExportResult = sync_type.export(context)
        return result
    finally:
        session.close()


def export_once(sync: Sync, out_dir: Path) -> ExportResult:
    """The files one run would build now, written to ``out_dir``; nothing is recorded."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with read_snapshot(db.engine) as connection:
        return export_sync(app, sync, connection, out_dir, utcnow())
