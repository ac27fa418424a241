"""Per-connection database settings, and the read snapshot exports run in.

SQLite: WAL mode, so that an export reads one consistent snapshot while the app keeps
writing; foreign keys on (SQLite leaves them off); a busy timeout so that the web app,
the worker and the scheduler wait for each other instead of failing.

pysqlite's default transaction handling is kept for ordinary work (it begins a
transaction at the first write, so a write never has to upgrade a stale read snapshot,
which SQLite refuses without waiting). Code that needs a snapshot across several reads
asks for one with ``read_snapshot``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event


def install_engine_hooks(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or getattr(engine, "_loyalty_sync_hooks", False):
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # Exports convert UTC timestamps to a layout's zone in SQL (see exporters.sql).
        dbapi_connection.create_function("lsync_localtime", 2, _localtime, deterministic=True)

    engine._loyalty_sync_hooks = True  # type: ignore[attr-defined]


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one consistent, read-only snapshot of the database.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction (the snapshot is taken at the
    first query). SQLite: an explicit BEGIN plus a first read, which pins the WAL
    snapshot for the rest of the transaction.
    """
    if engine.dialect.name == "postgresql":
        with (
            engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ) as connection,
            connection.begin(),
        ):
            yield connection
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN")
        connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
        try:
            yield connection
        finally:
            connection.rollback()


def _localtime(value: str | None, zone: str) -> str | None:
    """SQLite function ``lsync_localtime(utc_text, zone)``: the UTC timestamp seen in ``zone``."""
    if value is None:
        return None
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
