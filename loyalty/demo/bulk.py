"""Bulk inserts for the seed: SQLite ``executemany`` and PostgreSQL ``COPY``.

The ORM (and even Core executemany with type processing) spends microseconds per value
converting types; at tens of millions of rows that is most of the run. The seed therefore
produces rows already in the form the database driver takes (see ``Formats``) and hands
them to the driver directly, with statements built from the models' tables so that a
column the model does not have is an error, not a typo in SQL.

Secondary indexes of the seeded tables are dropped while the rows go in and built again
at the end (``defer_indexes`` / ``restore_indexes``): building an index from sorted data
is many times faster than keeping it up to date through millions of random inserts. The
indexes come back from the models' own definitions, also when the seed fails. On
PostgreSQL the foreign keys are deferred the same way (``defer_foreign_keys``).

SQLite: the seed's connection also turns off foreign-key enforcement and fsync
(``synchronous=OFF``) while it loads; the data is generated consistent (a test runs
``PRAGMA foreign_key_check``), and a crash mid-seed means seeding again anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg.errors import LockNotAvailable
from sqlalchemy import Engine, ForeignKeyConstraint, Index, Table
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint

from loyalty.db import Base

EPOCH = datetime(1970, 1, 1)  # naive UTC, as UTCDateTime stores it


_DAY_TEXT: dict[int, str] = {}


def _sqlite_ts(seconds: float) -> str:
    # The exact text SQLAlchemy's SQLite DateTime writes ("YYYY-MM-DD HH:MM:SS.ffffff"), so
    # exporters reading milliseconds from the text see the same thing for seeded rows.
    micros = int(seconds * 1_000_000)
    days, micros = divmod(micros, 86_400_000_000)
    text = _DAY_TEXT.get(days)
    if text is None:
        text = _DAY_TEXT[days] = (date(1970, 1, 1) + timedelta(days=days)).isoformat()
    seconds_of_day, micros = divmod(micros, 1_000_000)
    hours, rest = divmod(seconds_of_day, 3600)
    return f"{text} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{micros:06d}"


def _pg_ts(seconds: float) -> datetime:
    return EPOCH + timedelta(microseconds=int(seconds * 1_000_000))


def _sqlite_date(day: date) -> str:
    return day.isoformat()


def _pg_date(day: date) -> date:
    return day


class Formats:
    """How generated values reach the driver: ``ts(epoch_seconds)`` and ``day(date)``."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.ts: Callable[[float], Any] = _pg_ts if dialect == "postgresql" else _sqlite_ts
        self.day: Callable[[date], Any] = _pg_date if dialect == "postgresql" else _sqlite_date


def epoch(moment: datetime) -> float:
    return (moment.astimezone(UTC).replace(tzinfo=None) - EPOCH).total_seconds()


# How long a PostgreSQL seed waits for a table another connection holds.
LOCK_TIMEOUT_SECONDS = 60


class TablesBusy(RuntimeError):
    """Another connection holds a table the bulk load must restructure."""


class BulkWriter:
    """Inserts rows (tuples in the order of the given columns) into the models' tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.formats = Formats(self.dialect)
        self.rows_written: dict[str, int] = {}
        self._deferred: list[Index] = []
        self._deferred_keys: list[ForeignKeyConstraint] = []
        self._raw = engine.raw_connection()
        self._driver: Any = self._raw.driver_connection
        if self._driver is None:
            raise RuntimeError("the engine gave no driver connection")
        if self.dialect == "sqlite":
            cursor = self._driver.cursor()
            for pragma in (
                "foreign_keys=OFF",
                "synchronous=OFF",
                "cache_size=-262144",
                "temp_store=MEMORY",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()
        else:
            # The seed drops indexes and keys of tables nobody else should be using; a
            # forgotten open transaction elsewhere must fail it, not stall it forever.
            with self._driver.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
            self._driver.commit()

    def table(self, name: str) -> Table:
        table: Table = Base.metadata.tables[name]
        return table

    def _names(self, table: Table, columns: Sequence[str]) -> str:
        quote = self.engine.dialect.identifier_preparer.quote
        missing = [c for c in columns if c not in table.c]
        if missing:
            raise KeyError(f"{table.name} has no column(s) {missing}")
        return ", ".join(quote(c) for c in columns)

    def insert(self, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        table = self.table(name)
        names = self._names(table, columns)
        quoted = self.engine.dialect.identifier_preparer.quote(name)
        count = 0
        if self.dialect == "postgresql":
            with (
                self._driver.cursor() as cursor,
                cursor.copy(f"COPY {quoted} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            rows = rows if isinstance(rows, list) else list(rows)
            marks = ", ".join("?" * len(columns))
            cursor = self._driver.cursor()
            # Table and column names come from the models (checked above), values are bound.
            cursor.executemany(f"INSERT INTO {quoted} ({names}) VALUES ({marks})", rows)  # noqa: S608
            cursor.close()
            count = len(rows)
        self.rows_written[name] = self.rows_written.get(name, 0) + count
        return count

    def defer_indexes(self, tables: Iterable[str]) -> int:
        """Drop the secondary indexes of ``tables`` until ``restore_indexes``."""
        quote = self.engine.dialect.identifier_preparer.quote
        dropped: list[Index] = []
        with self._lock_waits_fail():
            cursor = self._driver.cursor()
            for name in tables:
                for index in sorted(self.table(name).indexes, key=lambda i: str(i.name)):
                    cursor.execute(f"DROP INDEX IF EXISTS {quote(str(index.name))}")
                    dropped.append(index)
            cursor.close()
            self.commit()
        self._deferred.extend(dropped)  # only once the drops are committed
        return len(self._deferred)

    @contextmanager
    def _lock_waits_fail(self) -> Iterator[None]:
        """Turn PostgreSQL's lock timeout into a message that says what to do."""
        try:
            yield
        except LockNotAvailable as exc:
            self.rollback()
            raise TablesBusy(
                "Another connection holds the loyalty tables (an open transaction?); "
                f"nothing was seeded. Close it and seed again. The database said: {exc}"
            ) from exc

    def defer_foreign_keys(self, tables: Iterable[str]) -> int:
        """PostgreSQL: drop the foreign keys of ``tables`` until ``restore_indexes``.

        The per-row referential check is most of what COPY costs; adding a constraint back
        checks all rows in one join. (SQLite: enforcement is off for the connection.)
        """
        if self.dialect != "postgresql":
            return 0
        dialect = self.engine.dialect
        dropped: list[ForeignKeyConstraint] = []
        with self._lock_waits_fail():
            with self._driver.cursor() as cursor:
                for name in tables:
                    table = self.table(name)
                    keys = sorted(table.foreign_key_constraints, key=lambda k: str(k.name))
                    for key in keys:
                        cursor.execute(
                            str(DropConstraint(key, if_exists=True).compile(dialect=dialect))
                        )
                        dropped.append(key)
            self.commit()
        self._deferred_keys.extend(dropped)  # only once the drops are committed
        return len(self._deferred_keys)

    def restore_indexes(self) -> None:
        """Build the dropped indexes and foreign keys again, exactly as the models (and so
        the migrations) define them."""
        dialect = self.engine.dialect
        cursor = self._driver.cursor()
        while self._deferred:
            index = self._deferred.pop(0)
            cursor.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))
        while self._deferred_keys:
            key = self._deferred_keys.pop(0)
            cursor.execute(str(AddConstraint(key).compile(dialect=dialect)))
        cursor.close()
        self.commit()

    def commit(self) -> None:
        self._driver.commit()

    def rollback(self) -> None:
        self._driver.rollback()

    def finish(self, tables: Iterable[str]) -> None:
        """Commit, and on PostgreSQL move each id sequence past the ids the seed chose."""
        self.commit()
        if self.dialect == "postgresql":
            with self._driver.cursor() as cursor:
                for name in tables:
                    table = self.table(name)
                    if "id" not in table.c or not table.c.id.autoincrement:
                        continue
                    # Table names come from the models, never from input.
                    statement = (
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {name}"
                    )
                    cursor.execute(statement)
                cursor.execute("ANALYZE")
            self._driver.commit()
        else:
            cursor = self._driver.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("ANALYZE")
            cursor.close()
            self._driver.commit()

    def close(self) -> None:
        self._raw.close()
