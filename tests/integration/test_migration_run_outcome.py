"""Migration b7d2e4c81f09 (issue 14) on a database that already holds runs: existing runs
get their per-sync numbers and their stored outcome, "cancelled" becomes a valid status,
and the downgrade turns cancellations back into failures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from webapp import create_app

BEFORE = "65edab6a78af"  # two steps up: another migration runs first
PREVIOUS = "b7d4e2a91c03"  # the revision before this one


def _row(table: sa.Table, **values: Any) -> dict[str, Any]:
    """``values`` plus a plain value for every other NOT NULL column without a default."""
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        python_type: Any
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            python_type = str
        if python_type is bool:
            values[column.name] = False
        elif python_type is int:
            values[column.name] = 0
        elif python_type is dt.datetime:
            values[column.name] = dt.datetime(2026, 12, 1, 3, 0)
        elif python_type in (dict, list) or isinstance(column.type, sa.JSON):
            values[column.name] = {}
        elif column.name == "compression" or column.name == "encryption":
            values[column.name] = "none"
        else:
            values[column.name] = "x"
    return values


@pytest.fixture
def old_database(tmp_path: Path) -> Any:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        upgrade(revision=BEFORE)
        yield app


def test_existing_runs_are_numbered_and_judged(old_database: Any) -> None:
    from webapp.extensions import db

    engine = db.engine
    meta = sa.MetaData()
    meta.reflect(engine, only=["syncs", "sync_instances", "transfers"])
    syncs, runs, transfers = (meta.tables[n] for n in ("syncs", "sync_instances", "transfers"))
    with engine.begin() as c:
        for sid in (1, 2):
            c.execute(
                syncs.insert().values(
                    **_row(syncs, id=sid, name=f"S{sid}", execution_time="03:00", timezone="UTC")
                )
            )
        plan = [  # (run id, sync, creation, transfer statuses as (destination name, round, status))
            (1, 1, "succeeded", [("A", 1, "succeeded"), ("B", 1, "succeeded")]),
            (2, 2, "succeeded", [("A", 1, "succeeded"), ("B", 1, "failed")]),
            (3, 1, "succeeded", [("A", 1, "failed"), ("A", 2, "succeeded")]),  # re-sent
            (4, 1, "failed", []),
            (5, 2, "succeeded", [("A", 1, "retrying"), ("B", 1, "failed")]),
            (6, 1, "pending", []),
        ]
        for rid, sid, creation, sent in plan:
            c.execute(
                runs.insert().values(
                    **_row(
                        runs,
                        id=rid,
                        sync_id=sid,
                        trigger="manual",
                        creation_status=creation,
                        row_counts={},
                    )
                )
            )
            for name, round_, status in sent:
                c.execute(
                    transfers.insert().values(
                        **_row(
                            transfers,
                            instance_id=rid,
                            destination_name=name,
                            round=round_,
                            status=status,
                        )
                    )
                )
        with pytest.raises(sa.exc.IntegrityError), c.begin_nested():
            c.execute(sa.update(runs).where(runs.c.id == 6).values(creation_status="cancelled"))
    upgrade()
    with engine.connect() as c:
        got = c.execute(
            sa.text("SELECT id, sequence, outcome FROM sync_instances ORDER BY id")
        ).all()
        numbers = dict(c.execute(sa.text("SELECT id, runs_created FROM syncs")).all())
    assert [tuple(r) for r in got] == [
        (1, 1, "delivered"),
        (2, 1, "partly_failed"),
        (3, 2, "delivered"),
        (4, 3, "failed"),
        (5, 2, "retrying"),
        (6, 4, "waiting"),
    ]
    assert numbers == {1: 4, 2: 2}
    with engine.connect() as c:  # the tables were copied: their children are all still there
        assert c.scalar(sa.text("SELECT count(*) FROM transfers")) == 8
        assert c.scalar(sa.text("PRAGMA foreign_keys")) == 1
    with engine.begin() as c:
        c.execute(sa.text("UPDATE sync_instances SET creation_status = 'cancelled' WHERE id = 6"))
        c.execute(sa.text("UPDATE transfers SET status = 'cancelled' WHERE instance_id = 5"))
    downgrade(revision=PREVIOUS)
    with engine.connect() as c:
        assert (
            c.scalar(sa.text("SELECT creation_status FROM sync_instances WHERE id = 6")) == "failed"
        )
        assert set(c.scalars(sa.text("SELECT status FROM transfers WHERE instance_id = 5"))) == {
            "failed"
        }
    # Further down: b7d4e2a91c03 drops columns from ``syncs``, so SQLite copies that table;
    # every run, transfer and file row must survive the copy (migrations/env.py).
    downgrade(revision=BEFORE)
    with engine.connect() as c:
        assert c.scalar(sa.text("SELECT count(*) FROM sync_instances")) == 6
        assert c.scalar(sa.text("SELECT count(*) FROM transfers")) == 8
        assert c.scalar(sa.text("PRAGMA foreign_keys")) == 1
