"""Streaming a query's rows to a writer with flat memory.

Rows are fetched in chunks (PostgreSQL: a server-side cursor; SQLite: the cursor itself
is incremental), so memory stays flat whatever the number of members. Queries select
columns already formatted by ``exporters.sql``, so each row is a tuple of strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from exporters.base import AnySelect

CHUNK = 10_000


def stream(session: Session, statement: AnySelect, chunk: int = CHUNK) -> Iterator[Sequence[str]]:
    """Yield the rows of ``statement`` (tuples of formatted strings), ``chunk`` at a time.

    On SQLite, the driver's own row tuples: SQLAlchemy builds a ``Row`` per record, which
    costs about as much again as the sqlite3 module's own fetching (a million-member export
    spends ~2 s on it), and the formatted-string columns of ``exporters.sql`` need no result
    processing, so the driver's tuples are the same values. The pysqlite cursor fetches
    incrementally and SQLAlchemy buffers nothing ahead of it there, so reading the cursor
    directly is exact. Other databases (and any column a type would process) go through a
    server-side cursor with SQLAlchemy's rows.
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "sqlite" and all(
        column.type.result_processor(dialect, None) is None for column in statement.selected_columns
    ):
        result = connection.execute(statement)
        cursor = result.cursor
        try:
            while rows := cursor.fetchmany(chunk):
                yield from rows
        finally:
            result.close()
        return
    result = connection.execute(statement.execution_options(stream_results=True, yield_per=chunk))
    try:
        for partition in result.partitions(chunk):
            yield from partition
    finally:
        result.close()
