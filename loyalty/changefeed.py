"""Reading the change log for incremental exports, with an exact watermark.

Pure SQLAlchemy (no Flask, no app context): exporters call it with the ``Session`` or
``Connection`` of their read snapshot (``loyalty.engine.read_snapshot``).

The contract: take ``until = current_watermark(conn)`` inside the export's snapshot, read
``changes_since(conn, since)`` (or build on ``window(since, until)``), and store ``until``
when the file is created. Across consecutive exports every committed change is then
returned exactly once, whatever commits while an export runs.

Why it is exact
---------------

*PostgreSQL.* Ids from a sequence are taken at insert time but become visible at commit,
so "id > last seen id" would skip a row whose transaction started early and committed
late. Instead every row stores the id of the transaction that wrote it (``txid``, set by
the server default ``pg_current_xact_id()``), and the watermark is the export's snapshot
(``pg_current_snapshot()``: ``xmin:xmax:xip``, taken inside its REPEATABLE READ
transaction, so it is the very snapshot the export reads). A committed transaction T is
visible in a snapshot S iff ``T < S.xmax and T not in S.xip``. Visibility only grows from
one export's snapshot to the next, so each committed transaction has exactly one export
whose snapshot is the first to see it: export k returns the rows with
``visible(T, S_k) and not visible(T, S_{k-1})``. A transaction still running when S_k
was taken is in ``S_k.xip`` and is picked up by the export that first sees it committed;
a rolled-back one is never visible. ``txid >= S_{k-1}.xmin`` is the index-friendly
prefix of the filter. Because the upper bound is written in SQL too (not left to MVCC),
the window query gives the same rows in any later snapshot.

*SQLite.* Writers are serialized (one write transaction at a time) and a row's id is
taken inside that write lock, so ids are committed in increasing order; the highest id
visible in the export's snapshot is an exact watermark. ``sqlite_autoincrement`` keeps
ids from being reused after pruning.

First run
---------

``since=None`` means "from the beginning of the log": a new incremental sync's first file
is the initial load of everything the log holds. A sync that should start from its
creation instead stores ``current_watermark()`` as its watermark when it is created.
The demo seed writes nothing to the log (the seeded history predates change capture),
so after a seed the first incremental file holds only what changed since.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Row, and_, delete, false, func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from loyalty.models.change_log import ChangeKind, ChangeLog

Watermark = dict[str, Any]
WATERMARK_VERSION = 1


@dataclass(frozen=True)
class PgSnapshot:
    """A parsed ``pg_snapshot`` (``xmin:xmax:xip1,xip2,...``)."""

    xmin: int
    xmax: int
    xip: tuple[int, ...]

    @classmethod
    def parse(cls, value: str) -> PgSnapshot:
        try:
            xmin_text, xmax_text, xip_text = value.split(":")
            xmin, xmax = int(xmin_text), int(xmax_text)
            xip = tuple(sorted(int(x) for x in xip_text.split(",") if x))
        except ValueError:
            raise ValueError(f"not a PostgreSQL snapshot: {value!r}") from None
        if not xmin <= xmax or any(not xmin <= x < xmax for x in xip):
            raise ValueError(f"inconsistent PostgreSQL snapshot: {value!r}")
        return cls(xmin, xmax, xip)

    def sees(self, txid: int) -> bool:
        """Whether a *committed* transaction ``txid`` is visible in this snapshot."""
        return txid < self.xmax and txid not in self.xip


def _dialect(bind: Connection | Session) -> str:
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


def current_watermark(bind: Connection | Session) -> Watermark:
    """Where this export stops: call it inside the export's read snapshot.

    PostgreSQL: ``{"v": 1, "pg_snapshot": "xmin:xmax:xip"}``. SQLite: ``{"v": 1,
    "max_id": N}``. Both are small and JSON-able (store them in ``Sync.watermark``).
    """
    if _dialect(bind) == "postgresql":
        snapshot = bind.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
        return {"v": WATERMARK_VERSION, "pg_snapshot": snapshot}
    max_id = bind.execute(select(func.max(ChangeLog.id))).scalar_one()
    return {"v": WATERMARK_VERSION, "max_id": int(max_id or 0)}


def _check(watermark: Watermark, dialect: str) -> None:
    if watermark.get("v") != WATERMARK_VERSION:
        raise ValueError(f"unknown change-log watermark {watermark!r}")
    key = "pg_snapshot" if dialect == "postgresql" else "max_id"
    if key not in watermark:
        raise ValueError(
            f"watermark {watermark!r} was taken on another kind of database than {dialect}"
        )


def window(since: Watermark | None, until: Watermark, dialect: str) -> ColumnElement[bool]:
    """The WHERE clause over ``change_log`` selecting the changes in ``(since, until]``."""
    _check(until, dialect)
    if since is not None:
        _check(since, dialect)
    if dialect != "postgresql":
        upper = ChangeLog.id <= int(until["max_id"])
        return upper if since is None else and_(ChangeLog.id > int(since["max_id"]), upper)

    txid = ChangeLog.txid
    to = PgSnapshot.parse(until["pg_snapshot"])
    # Visible in the export's snapshot (committed before it was taken).
    visible_now: ColumnElement[bool] = txid < to.xmax
    if to.xip:
        visible_now = and_(visible_now, txid.not_in(to.xip))
    if since is None:
        return visible_now
    prev = PgSnapshot.parse(since["pg_snapshot"])
    # Not visible in the previous export's snapshot.
    unseen: ColumnElement[bool] = txid >= prev.xmax
    if prev.xip:
        unseen = or_(unseen, txid.in_(prev.xip))
    return and_(txid >= prev.xmin, unseen, visible_now)


def changes_select(
    since: Watermark | None,
    until: Watermark,
    dialect: str,
    kinds: Iterable[ChangeKind | str] | None = None,
    codes: Iterable[str] | None = None,
    order: Literal["id", "occurred_at"] = "id",
) -> Select[Any]:
    """``SELECT change_log.* WHERE <window> [AND kind IN kinds] [AND code IN codes]``.

    A ``Select`` so that an exporter can add joins (members, rewards...) or use it as a
    subquery. ``order="occurred_at"`` orders by when the changes happened (the Case
    Sync's event order), id breaking ties.
    """
    condition = window(since, until, dialect)
    statement = select(ChangeLog).where(condition)
    if kinds is not None:
        kind_values = [str(k) for k in kinds]
        statement = statement.where(ChangeLog.kind.in_(kind_values) if kind_values else false())
    if codes is not None:
        code_values = [str(c) for c in codes]
        statement = statement.where(ChangeLog.code.in_(code_values) if code_values else false())
    if order == "occurred_at":
        return statement.order_by(ChangeLog.occurred_at, ChangeLog.id)
    return statement.order_by(ChangeLog.id)


@dataclass
class ChangeSet:
    """The changes of one export: ``rows`` (iterate once) and the watermark to store."""

    since: Watermark | None
    watermark: Watermark
    rows: Iterator[Row[Any]]


def changes_since(
    bind: Connection | Session,
    since: Watermark | None,
    kinds: Iterable[ChangeKind | str] | None = None,
    codes: Iterable[str] | None = None,
    order: Literal["id", "occurred_at"] = "id",
    chunk_size: int = 5000,
) -> ChangeSet:
    """The changes committed after ``since`` and visible in ``bind``'s snapshot.

    Rows are ``change_log`` rows (``row.id``, ``row.kind``, ``row.code``,
    ``row.member_id``, ``row.subject_id``, ``row.subject2_id``, ``row.payload``,
    ``row.occurred_at``), streamed in chunks, in id order (or ``occurred_at`` order).
    Store ``result.watermark`` only once the export's file is created.
    """
    dialect = _dialect(bind)
    until = current_watermark(bind)
    statement = changes_select(since, until, dialect, kinds, codes, order).with_only_columns(
        *ChangeLog.__table__.c
    )
    # Executed now, inside the caller's snapshot; rows are fetched in chunks as iterated.
    rows = bind.execute(statement.execution_options(yield_per=chunk_size))
    return ChangeSet(since, until, iter(rows))


def prune_below(bind: Connection | Session, needed: list[Watermark]) -> int:
    """Delete the change-log rows that every position in ``needed`` has already seen.

    ``needed`` is the position each reader of the log still starts from (each sync's
    watermark, or its creation position before its first run); an empty list means no
    reader, so everything up to now goes. Returns the rows deleted; the caller commits.

    PostgreSQL: a row whose ``txid`` is below a snapshot's ``xmin`` was committed before
    that snapshot was taken, so it lies in no window after it; the bound is the lowest
    ``xmin``. SQLite: a position is the highest id seen, so ids up to the lowest go
    (``sqlite_autoincrement`` keeps them from being reused).
    """
    dialect = _dialect(bind)
    positions = needed or [current_watermark(bind)]
    for position in positions:
        _check(position, dialect)
    if dialect == "postgresql":
        xmin = min(PgSnapshot.parse(p["pg_snapshot"]).xmin for p in positions)
        condition: ColumnElement[bool] = ChangeLog.txid < xmin
    else:
        condition = ChangeLog.id <= min(int(p["max_id"]) for p in positions)
    result = bind.execute(delete(ChangeLog).where(condition))
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = [
    "ChangeSet",
    "PgSnapshot",
    "Watermark",
    "changes_select",
    "changes_since",
    "current_watermark",
    "prune_below",
    "window",
]
