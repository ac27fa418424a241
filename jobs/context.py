"""Jobs run inside an app context of their own.

``flask worker`` creates the app once (a forked work horse inherits it); a plain
``rq worker`` has none, so the first job creates the app. Each job then pushes a new
context, so it gets its own session, removed when the job ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_process_app: Flask | None = None


@contextmanager
def job_context() -> Iterator[Flask]:
    """A fresh app context (and so a fresh database session) for one job.

    Nested inside the worker's own context when there is one, so that a job never shares
    a session, or cached rows, with whatever ran before it in the same process.
    """
    from webapp.extensions import db

    global _process_app
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    else:
        if _process_app is None:
            from webapp import create_app

            _process_app = create_app()
        app = _process_app
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()


def superseded_job(row_job_id: str | None) -> bool:
    """True when this RQ job is a stale copy: its row names another job that RQ still has
    queued or running. That happens when the minute sweep took the row's job for lost
    and queued it again under a new id while the old copy survived somewhere; only one
    may do the work. False outside RQ, and when the row names a finished job (an
    enqueue whose new id is not committed yet)."""
    from rq import get_current_job

    from webapp.services.dispatch import job_is_alive

    job = get_current_job()
    if job is None or row_job_id is None or job.id == row_job_id:
        return False
    try:
        return job_is_alive(row_job_id)
    except Exception:
        return False
