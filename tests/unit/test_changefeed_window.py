"""The change-log watermark logic, without a database: snapshots and window predicates."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from loyalty.changefeed import PgSnapshot, changes_select, window

pytestmark = pytest.mark.nodb


def test_snapshot_parsing_and_visibility() -> None:
    snap = PgSnapshot.parse("100:110:102,105")
    assert (snap.xmin, snap.xmax, snap.xip) == (100, 110, (102, 105))
    assert snap.sees(99) and snap.sees(101) and not snap.sees(102) and not snap.sees(110)
    assert PgSnapshot.parse("7:7:") == PgSnapshot(7, 7, ())
    for bad in ("", "1:2", "a:b:", "10:5:", "1:5:9"):
        with pytest.raises(ValueError, match="snapshot"):
            PgSnapshot.parse(bad)


def _sql(clause, dialect) -> str:
    return str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_postgresql_window_is_not_seen_before_and_seen_now() -> None:
    since = {"v": 1, "pg_snapshot": "100:110:102,105"}
    until = {"v": 1, "pg_snapshot": "104:120:104"}
    sql = _sql(window(since, until, "postgresql"), postgresql.dialect())
    assert "change_log.txid >= 100" in sql
    assert "change_log.txid >= 110 OR change_log.txid IN (102, 105)" in sql
    assert "change_log.txid < 120" in sql and "NOT IN (104)" in sql


def test_sqlite_window_is_an_id_range_and_first_run_is_everything() -> None:
    assert _sql(
        window({"v": 1, "max_id": 5}, {"v": 1, "max_id": 9}, "sqlite"), sqlite.dialect()
    ) == ("change_log.id > 5 AND change_log.id <= 9")
    assert (
        _sql(window(None, {"v": 1, "max_id": 9}, "sqlite"), sqlite.dialect())
        == "change_log.id <= 9"
    )


def test_window_exactness_by_brute_force() -> None:
    """Every committed transaction falls in exactly one window of a chain of snapshots."""
    snapshots = [
        PgSnapshot.parse(s)
        for s in ("10:10:", "10:15:10,12", "12:18:12,16", "16:25:16,20,21", "30:30:")
    ]

    def visible(txid: int, snap: PgSnapshot) -> bool:
        return snap.sees(txid)

    for txid in range(0, 30):
        windows = [
            k
            for k in range(1, len(snapshots))
            if visible(txid, snapshots[k]) and not visible(txid, snapshots[k - 1])
        ]
        first_seen = [k for k in range(len(snapshots)) if visible(txid, snapshots[k])]
        assert windows == ([] if first_seen[0] == 0 else [first_seen[0]])


def test_select_filters_kinds_and_orders() -> None:
    statement = changes_select(
        None, {"v": 1, "max_id": 3}, "sqlite", kinds=["case"], order="occurred_at"
    )
    sql = _sql(statement, sqlite.dialect())
    assert "change_log.kind IN ('case')" in sql
    assert sql.endswith("ORDER BY change_log.occurred_at, change_log.id")
    empty = _sql(changes_select(None, {"v": 1, "max_id": 3}, "sqlite", kinds=[]), sqlite.dialect())
    assert "0 = 1" in empty or "false" in empty.lower()
