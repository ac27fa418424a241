"""Running one file: read row by row, apply in batches, report every rejected row.

Modes
-----
``all-or-nothing``: the whole file runs inside one transaction (flushed and the session
emptied every batch, so memory stays flat); when any row is rejected the transaction
is rolled back, so nothing is applied and the report lists every bad row, not just the
first.

``skip-bad-rows``: each batch commits; a rejected row is rolled back to its own
savepoint, so it leaves no trace and the good rows around it are kept.

In both, every row runs in a savepoint: a row is applied whole or not at all, even when
the database refuses its third statement. ``dry_run`` runs exactly the same way and rolls
everything back at the end, so its counts are the real ones.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from loyalty.errors import NotFound, ValidationError
from loyalty.loading.declarations import Kind, RowError, RowInvalid, shown
from loyalty.loading.readers import BadRow, FileRefused, format_of, read_csv, read_ndjson

MODES = ("all-or-nothing", "skip-bad-rows")
# The report keeps this many lines; the counts stay exact beyond it.
MAX_REPORTED = 10_000


class LoadRefused(Exception):
    """The load cannot start or had to stop as a whole; the message says why."""


@dataclass
class LoadResult:
    kind: str
    mode: str
    dry_run: bool
    filename: str
    read: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    stored: bool = False
    seconds: float = 0.0
    failure: str | None = None
    errors: list[RowError] = field(default_factory=list)
    sha256: str = ""
    # Changed rows in the batches committed so far (what stays when a load stops).
    committed: int = 0

    @property
    def applied(self) -> int:
        """Rows whose changes are stored (0 after a dry run or a rejected file)."""
        if self.failure:
            return self.committed
        return self.changed if self.stored else 0

    @property
    def outcome(self) -> str:
        if self.failure:
            return "failed"
        if self.dry_run:
            return "dry-run"
        if not self.stored:
            return "rejected"
        return "partial" if self.rejected else "applied"

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def reject(self, line: int, problems: list[tuple[str, str, str]]) -> None:
        self.rejected += 1
        for field_name, value, reason in problems:
            if len(self.errors) < MAX_REPORTED:
                self.errors.append(RowError(line, field_name, value, reason))

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.filename,
            "sha256": self.sha256,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "read": self.read,
            "applied": self.applied,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "failure": self.failure,
            "errors": [e.as_dict() for e in self.errors],
        }


class _Hashing:
    """Reads a binary stream and hashes what went through (the load record's sha256)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.digest.update(line)
            yield line


def _problems(exc: Exception, row: dict[str, Any]) -> list[tuple[str, str, str]]:
    if isinstance(exc, RowInvalid):
        return exc.problems
    if isinstance(exc, ValidationError):
        return [
            (name if name != "__all__" else "", shown(row.get(name, "")), message)
            for name, message in exc.errors.items()
        ]
    if isinstance(exc, NotFound):
        return [("", "", str(exc))]
    if isinstance(exc, SQLAlchemyError):
        original = getattr(exc, "orig", None) or exc
        first = str(original).splitlines()[0] if str(original) else type(original).__name__
        return [("", "", f"the database refused the row: {first[:200]}")]
    return [("", "", f"the row could not be applied ({type(exc).__name__}).")]


def _begin(session: Session) -> None:
    """Open the outer transaction explicitly on SQLite.

    pysqlite begins a transaction only before a write, and a SAVEPOINT outside a
    transaction starts one that its RELEASE commits: the first row's savepoint would
    commit that row at once, and all-or-nothing could no longer roll it back.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not getattr(raw, "in_transaction", True):
        connection.exec_driver_sql("BEGIN")


def run_load(
    session: Session,
    kind: Kind,
    stream: IO[bytes],
    *,
    filename: str,
    fmt: str | None = None,
    mode: str = "all-or-nothing",
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: Callable[[LoadResult], None] | None = None,
) -> LoadResult:
    """Load ``stream`` (binary) as rows of ``kind``; the caller's session must be idle."""
    if mode not in MODES:
        raise LoadRefused(f"unknown mode {mode!r} (all-or-nothing or skip-bad-rows).")
    result = LoadResult(kind=kind.name, mode=mode, dry_run=dry_run, filename=filename)
    started = time.monotonic()
    hashing = _Hashing(stream)
    try:
        file_format = format_of(filename, fmt)
        if file_format == "csv":
            columns, rows = read_csv(hashing)  # type: ignore[arg-type]
            problem = kind.check_header(columns)
            if problem:
                raise FileRefused(f"wrong header: {problem}")
        else:
            rows = read_ndjson(hashing)  # type: ignore[arg-type]
    except FileRefused as exc:
        raise LoadRefused(str(exc)) from None
    commits = mode == "skip-bad-rows" and not dry_run
    _begin(session)
    try:
        for line, row in rows:
            result.read += 1
            _one(session, kind, line, row, result)
            if result.read % batch_size == 0:
                if commits:
                    session.commit()
                    result.committed = result.changed
                    _begin(session)
                else:
                    session.flush()
                session.expunge_all()
                if progress is not None:
                    result.seconds = time.monotonic() - started
                    progress(result)
    except (FileRefused, SQLAlchemyError) as exc:
        # A file that stops being readable, or a batch commit the database refuses
        # (locked, disconnected): the open batch is rolled back, committed ones stay.
        session.rollback()
        result.failure = (
            str(exc)
            if isinstance(exc, FileRefused)
            else f"the database stopped the load: {_problems(exc, {})[0][2]}"
        )
        result.stored = result.committed > 0
    else:
        if dry_run or (mode == "all-or-nothing" and result.rejected):
            session.rollback()
        else:
            session.commit()
            result.stored = True
    session.expunge_all()
    for _ in hashing:  # the rest of the file, so the hash is the whole file's
        pass
    result.sha256 = hashing.digest.hexdigest()
    result.seconds = time.monotonic() - started
    if progress is not None:
        progress(result)
    return result


def _one(
    session: Session, kind: Kind, line: int, row: dict[str, Any] | BadRow, result: LoadResult
) -> None:
    if isinstance(row, BadRow):
        result.reject(line, [(row.field, row.value, row.reason)])
        return
    try:
        values = kind.convert(row)
    except RowInvalid as exc:
        result.reject(line, exc.problems)
        return
    savepoint = session.begin_nested()
    try:
        changed = kind.apply(session, values)
        session.flush()
    except Exception as exc:
        savepoint.rollback()
        result.reject(line, _problems(exc, row))
        return
    savepoint.commit()
    if changed:
        result.changed += 1
    else:
        result.unchanged += 1
