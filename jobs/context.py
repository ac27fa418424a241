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
