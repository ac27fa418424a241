"""Streaming a query's rows to a writer with flat memory.

Rows are fetched in chunks (PostgreSQL: a server-side cursor; SQLite: the cursor itself
is incremental), so memory stays flat whatever the number of members. Queries select
columns already formatted by ``exporters.sql``, so each row is a tuple of strings.

On PostgreSQL such a query can skip the rows altogether: ``copy_records`` has the server
join and encode each record itself with ``COPY (query) TO STDOUT``, the database's own
export, and yields each record's bytes. The layouts' delimiter is COPY's delimiter and the
formatters leave no NULL, so the bytes are the same as joining the tuple; the only
difference, COPY's backslash escapes, is undone here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import CompileError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from exporters.base import AnySelect

CHUNK = 10_000


def _formatted_only(connection: Connection, statement: AnySelect) -> bool:
    """True when no column needs SQLAlchemy's result processing (formatted strings)."""
    dialect = connection.dialect
    return all(
        column.type.result_processor(dialect, None) is None for column in statement.selected_columns
    )


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
    if connection.dialect.name == "sqlite" and _formatted_only(connection, statement):
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


# COPY's text format writes these characters of a value as backslash sequences.
_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_COPY_UNESCAPED = {
    b"\\": b"\\",
    b"b": b"\x08",
    b"f": b"\x0c",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"v": b"\x0b",
}


def _unescape(match: re.Match[bytes]) -> bytes:
    char = match.group(1)
    return _COPY_UNESCAPED.get(char, char)  # the delimiter comes back as itself


def _copy_statement(connection: Connection, statement: AnySelect, delimiter: str) -> str | None:
    """The ``COPY (statement) TO STDOUT`` command for ``statement``, or None when this
    statement cannot go that way (not PostgreSQL, or a column needs result processing)."""
    if connection.dialect.name != "postgresql" or not _formatted_only(connection, statement):
        return None
    try:
        compiled = statement.compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
    except CompileError:  # a value without a literal form: the row path handles it
        return None
    sql = str(compiled)
    if connection.dialect.identifier_preparer._double_percents:
        # SQLAlchemy doubles every '%' of the SQL (literals, operators, text) for the
        # driver's parameter syntax; with every value a literal there are no parameters,
        # so the driver will not undo it: undo it here (an exact inverse).
        sql = sql.replace("%%", "%")
    return (
        f"COPY ({sql}) TO STDOUT (FORMAT text, DELIMITER E'{delimiter}', NULL '', ENCODING 'UTF8')"
    )


def copy_records(session: Session, statement: AnySelect, delimiter: str) -> Iterator[bytes] | None:
    """PostgreSQL: each record of ``statement`` as UTF-8 bytes, its values joined by
    ``delimiter`` (no line end), written by the server; None when the statement must go
    through ``stream`` instead. Runs on the session's connection, inside its snapshot."""
    connection = session.connection()
    command = _copy_statement(connection, statement, delimiter)
    if command is None:
        return None
    driver: Any = connection.connection.driver_connection
    return _copy_rows(driver, command)


def _copy_rows(driver: Any, command: str) -> Iterator[bytes]:
    with driver.cursor() as cursor, cursor.copy(command) as copy:
        sub = _COPY_ESCAPE.sub
        # libpq hands over one record per block, ending with a line feed.
        for block in copy:
            record = bytes(block)[:-1]
            yield sub(_unescape, record) if b"\\" in record else record
