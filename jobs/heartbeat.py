"""A thread that stamps a row's heartbeat while a job works.

The sweeper (jobs.tick) takes a build or transfer whose heartbeat is older than
HEARTBEAT_STALE_SECONDS for dead: its worker was killed. A thread (not the progress
callback) beats, so a long query that yields no row for minutes is not taken for dead.
The thread dies with its process, which is the point.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from flask import Flask

from webapp.extensions import db


class Heartbeat:
    def __init__(self, app: Flask, beat: Callable[[object], None]) -> None:
        """``beat(connection)`` writes the heartbeat; it runs in its own transaction."""
        self.app = app
        self.beat = beat
        self.interval = float(app.config["HEARTBEAT_INTERVAL_SECONDS"])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _run(self) -> None:
        with self.app.app_context():
            while not self._stop.wait(self.interval):
                try:
                    with db.engine.begin() as connection:
                        self.beat(connection)
                except Exception:
                    self.app.logger.warning("heartbeat failed", exc_info=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
