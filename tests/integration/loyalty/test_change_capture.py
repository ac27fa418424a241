"""Change capture: the change log's read side and the exactness of its watermark.

The central test runs several writer threads, each committing many small changes through
the domain services (and rolling some back), while a loop of exports reads the log on its
own read snapshot and carries the watermark from one export to the next, exactly as the
incremental syncs do. At the end every committed change appears in exactly one export.
On PostgreSQL the writers hold their transactions open after taking a change-log id, so
ids commit out of order; the test checks that this really happened.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loyalty.changefeed import changes_select, changes_since, current_watermark
from loyalty.engine import read_snapshot
from loyalty.models import ChangeKind, ChangeLog, Member
from loyalty.services import engagement, members, points
from tests.integration.loyalty.conftest import T0, Program
from webapp.extensions import db


def _export(engine: Any, since: dict | None, **kw: Any) -> tuple[list[int], dict]:
    with read_snapshot(engine) as conn:
        result = changes_since(conn, since, **kw)
        return [row.id for row in result.rows], result.watermark


def test_consecutive_exports_see_each_change_once(program: Program, member: Member) -> None:
    s, engine = program.session, db.engine
    ids, first = _export(engine, None)
    assert ids == [c.id for c in program.changes()]  # first run: everything in the log
    members.update_member(s, member, first_name="Annie", at=T0)
    engagement.record_interaction(s, member, program.email_added, audit_user="Anna", at=T0)
    s.commit()
    ids, second = _export(engine, first)
    assert ids == [c.id for c in program.changes()][-2:]
    assert _export(engine, second)[0] == []
    # Kinds filter, and the same window read again gives the same rows.
    only = _export(engine, first, kinds=[ChangeKind.INTERACTION])[0]
    assert only == [program.changes(kind="interaction")[0].id]
    dialect = engine.dialect.name
    again = s.scalars(changes_select(first, second, dialect).with_only_columns(ChangeLog.id)).all()
    assert again == ids


def test_starting_from_creation_skips_earlier_changes(program: Program, member: Member) -> None:
    with read_snapshot(db.engine) as conn:
        created = current_watermark(conn)
    points.adjust_points(program.session, member, 5, at=T0)
    program.session.commit()
    ids, _ = _export(db.engine, created)
    assert [program.session.get(ChangeLog, i).code for i in ids] == ["8"]


def test_a_watermark_from_the_other_database_is_refused(program: Program) -> None:
    foreign = (
        {"v": 1, "max_id": 3}
        if db.engine.dialect.name == "postgresql"
        else {"v": 1, "pg_snapshot": "5:5:"}
    )
    with pytest.raises(ValueError, match="another kind of database"):
        _export(db.engine, foreign)
    with pytest.raises(ValueError, match="unknown"):
        _export(db.engine, {"id": 3})


def test_postgresql_out_of_order_commit_is_exported_later(program: Program, member: Member) -> None:
    engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: a later id cannot commit before an earlier one")
    _, start = _export(engine, None)
    early = Session(bind=engine)
    late = Session(bind=engine)
    try:
        early_member = early.get_one(Member, member.id)
        engagement.record_interaction(
            early, early_member, program.email_added, audit_user="early", at=T0
        )
        early_id = early.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1))
        late_member = late.get_one(Member, member.id)
        engagement.record_interaction(
            late, late_member, program.email_added, audit_user="late", at=T0
        )
        late.commit()
        first_ids, first = _export(engine, start)
        early.commit()
        second_ids, second = _export(engine, first)
    finally:
        early.close()
        late.close()
    # A watermark of "highest id seen" would have stopped above the early row and lost it.
    assert len(first_ids) == 1 and first_ids[0] > early_id
    assert second_ids == [early_id]
    assert _export(engine, second)[0] == []


WRITERS = 4
WRITES_PER_WRITER = 60


def _writer(
    engine: Any,
    member_id: int,
    interaction_type_id: int,
    seed: int,
    committed: list[int],
    errors: list[BaseException],
) -> None:
    from loyalty.models import InteractionType

    rng = random.Random(seed)
    postgres = engine.dialect.name == "postgresql"
    try:
        with Session(bind=engine) as session:
            kind = session.get_one(InteractionType, interaction_type_id)
            for step in range(WRITES_PER_WRITER):
                member = session.get_one(Member, member_id)
                at = T0 + timedelta(seconds=step)
                roll = rng.random()
                before = (
                    session.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1)) or 0
                )
                if roll < 0.4:
                    points.adjust_points(session, member, rng.randint(1, 50), at=at)
                elif roll < 0.7:
                    engagement.record_interaction(
                        session, member, kind, audit_user=f"writer{seed}", at=at
                    )
                else:
                    members.update_member(session, member, middle_name=f"M{seed}-{step}", at=at)
                ids = list(
                    session.scalars(
                        select(ChangeLog.id).where(
                            ChangeLog.member_id == member_id, ChangeLog.id > before
                        )
                    )
                )
                if postgres:
                    # Hold the transaction open after taking ids, so ids commit out of order.
                    time.sleep(rng.uniform(0, 0.01))
                if rng.random() < 0.1:
                    session.rollback()
                    continue
                session.commit()
                committed.extend(ids)
    except BaseException as exc:  # reported by the test thread, which fails on it
        errors.append(exc)


def test_exports_reconcile_every_change_exactly_once_under_concurrent_writers(
    program: Program,
) -> None:
    s, engine = program.session, db.engine
    people = [members.enrol_member(s, first_name=f"Writer {i}", at=T0) for i in range(WRITERS)]
    s.commit()
    committed: list[int] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=_writer, args=(engine, p.id, program.email_added.id, i, committed, errors)
        )
        for i, p in enumerate(people)
    ]
    exports: list[list[int]] = []
    watermark: dict | None = None
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        ids, watermark = _export(engine, watermark)
        exports.append(ids)
        time.sleep(0.003)
    for thread in threads:
        thread.join()
    ids, watermark = _export(engine, watermark)
    exports.append(ids)
    assert not errors, errors

    seen = Counter(i for batch in exports for i in batch)
    repeated = {i: n for i, n in seen.items() if n > 1}
    everything = set(s.scalars(select(ChangeLog.id)))
    assert not repeated
    assert set(seen) == everything
    assert set(committed) <= everything and len(committed) >= WRITERS * WRITES_PER_WRITER * 0.7
    assert sum(1 for batch in exports if batch) >= 3  # exports really ran while writers wrote
    if engine.dialect.name == "postgresql":
        # Some export returned an id below one an earlier export had already returned:
        # exactly the case an "id > last id" watermark gets wrong.
        highest = 0
        late = 0
        for batch in exports:
            late += sum(1 for i in batch if i < highest)
            highest = max([highest, *batch])
        assert late > 0
    assert _export(engine, watermark)[0] == []


def test_txid_is_filled_by_the_database_on_postgresql(program: Program, member: Member) -> None:
    row = program.changes()[0]
    if db.engine.dialect.name == "postgresql":
        current = program.session.execute(
            text("SELECT (pg_current_xact_id()::text)::bigint")
        ).scalar_one()
        assert row.txid is not None and 0 < row.txid <= current
    else:
        assert row.txid is None
