"""SQL-side value encodings, so that the database formats each field and Python only joins.

Every function returns a SQLAlchemy expression that yields text ('' for NULL), compiled
for SQLite or PostgreSQL, and formats the same bytes on both:

- ``text_field``: the value with ``|`` replaced by ``¦`` and CR/LF/TAB by a space
  (the writer's rule, see ``exporters.writer``), so a value never shifts a column.
- ``int_field``: a whole number (cast to INTEGER on the way: 32 bits on PostgreSQL).
- ``bigint_field``: a 64-bit id as digits (no INTEGER cast, which would overflow).
- ``decimal_field``: a number with a fixed number of decimals (``12.50``).
- ``date_field``: ``YYYY-MM-DD``.
- ``timestamp_field``: ``YYYY-MM-DD HH:MM:SS`` or with milliseconds ``…SS.fff``, in a
  named IANA zone (timestamps are stored as UTC).
- ``bool_field``: a pair of words chosen by the layout (``True``/``False``,
  ``TRUE``/``FALSE``, ``-1``/``0``).

SQLite has no timezone database, so converting to a zone other than UTC calls the
``lsync_localtime`` function that ``loyalty.engine`` registers on each SQLite connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, Text, case, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from exporters.writer import DELIMITER_SUBSTITUTE

Expr = ColumnElement[Any]


def text_field(expr: Any) -> Expr:
    value: Expr = cast(expr, Text)
    for unsafe, safe in (("|", DELIMITER_SUBSTITUTE), ("\r", " "), ("\n", " "), ("\t", " ")):
        value = func.replace(value, literal(unsafe, String), literal(safe, String))
    return func.coalesce(value, literal("", String))


def int_field(expr: Any) -> Expr:
    return func.coalesce(cast(cast(expr, Integer), Text), literal("", String))


def bigint_field(expr: Any) -> Expr:
    """An integer column as digits, without ``int_field``'s cast to INTEGER (32 bits on
    PostgreSQL), for ids stored as BIGINT (ledger entries, bonuses). Integer columns
    only: a NUMERIC would keep its decimals."""
    return func.coalesce(cast(expr, Text), literal("", String))


def bool_field(expr: Any, true: str = "True", false: str = "False") -> Expr:
    return case(
        (expr.is_(True), literal(true, String)),
        (expr.is_(False), literal(false, String)),
        else_=literal("", String),
    )


class date_field(FunctionElement[str]):
    """``YYYY-MM-DD`` of a DATE (or the date part of a timestamp), '' for NULL."""

    type = String()
    inherit_cache = True
    name = "date_field"


@compiles(date_field, "sqlite")
def _date_sqlite(element: date_field, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    return f"coalesce(strftime('%Y-%m-%d', {compiler.process(arg, **kw)}), '')"


@compiles(date_field, "postgresql")
def _date_pg(element: date_field, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    return f"coalesce(to_char({compiler.process(arg, **kw)}, 'YYYY-MM-DD'), '')"


class timestamp_field(FunctionElement[str]):
    """A UTC-stored timestamp shown in ``zone``: ``YYYY-MM-DD HH:MM:SS[.fff]``, '' for NULL.

    Use ``timestamp_field(column, "Europe/London", millis=True)``.
    """

    type = String()
    inherit_cache = True
    name = "timestamp_field"
    # zone and millis change the SQL, so they are part of the statement cache key (without
    # them a statement in one zone would reuse another zone's compiled SQL).
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("zone", InternalTraversal.dp_string),
        ("millis", InternalTraversal.dp_boolean),
    ]

    def __init__(self, expr: Any, zone: str = "UTC", millis: bool = False) -> None:
        self.zone = zone
        self.millis = millis
        super().__init__(expr)


@compiles(timestamp_field, "sqlite")
def _ts_sqlite(element: timestamp_field, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    value = compiler.process(arg, **kw)
    if element.zone != "UTC":
        zone = compiler.process(literal(element.zone, String), **kw)
        value = f"lsync_localtime({value}, {zone})"
    seconds = f"strftime('%Y-%m-%d %H:%M:%S', {value})"
    if not element.millis:
        return f"coalesce({seconds}, '')"
    # strftime's %f rounds; milliseconds are truncated (as .NET's "fff" and the
    # PostgreSQL path do), read from the stored "YYYY-MM-DD HH:MM:SS.ffffff" text.
    millis = f"CASE WHEN length({value}) >= 23 THEN substr({value}, 21, 3) ELSE '000' END"
    return f"coalesce({seconds} || '.' || {millis}, '')"


@compiles(timestamp_field, "postgresql")
def _ts_pg(element: timestamp_field, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    value = compiler.process(arg, **kw)
    zone = compiler.process(literal(element.zone, String), **kw)
    # Stored as naive UTC: attach UTC, then view the instant in the zone.
    local = f"(({value}) AT TIME ZONE 'UTC' AT TIME ZONE {zone})"
    # PostgreSQL rounds .MS; SQLite truncates: truncate here too, so both write the same.
    if element.millis:
        local = f"date_trunc('milliseconds', {local})"
    fmt = "YYYY-MM-DD HH24:MI:SS.MS" if element.millis else "YYYY-MM-DD HH24:MI:SS"
    if not element.millis:
        local = f"date_trunc('second', {local})"
    return f"coalesce(to_char({local}, '{fmt}'), '')"


class decimal_field(FunctionElement[str]):
    """A number with ``places`` decimals (rounded half away from zero), '' for NULL."""

    type = String()
    inherit_cache = True
    name = "decimal_field"
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("places", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, expr: Any, places: int = 2) -> None:
        if not 0 <= places <= 6:
            raise ValueError("places must be 0-6")
        self.places = places
        super().__init__(expr)


@compiles(decimal_field, "sqlite")
def _decimal_sqlite(element: decimal_field, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    value = compiler.process(arg, **kw)
    return (
        f"CASE WHEN ({value}) IS NULL THEN '' "
        f"ELSE printf('%.{element.places}f', round({value}, {element.places})) END"
    )


@compiles(decimal_field, "postgresql")
def _decimal_pg(element: decimal_field, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    value = compiler.process(arg, **kw)
    pattern = "FM" + "9" * 18 + "0" + ("." + "0" * element.places if element.places else "")
    return f"coalesce(to_char(round(({value})::numeric, {element.places}), '{pattern}'), '')"
