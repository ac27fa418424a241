"""stream gives exactly the query's rows (on SQLite read from the driver's cursor) across
chunk boundaries, and SQLAlchemy's processed values for columns a type would process."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from exporters.sql import int_field, text_field
from exporters.stream import stream
from loyalty.engine import read_snapshot
from loyalty.models import Member
from tests.integration.exporters.members_b_support import enrol
from webapp.extensions import db


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_same_rows_as_the_query_across_chunk_boundaries(app: Flask, chunk: int) -> None:
    for n in range(7):
        enrol(f"A{n}", first_name=f"Name {n}|x")
    db.session.commit()
    query = select(int_field(Member.id), text_field(Member.first_name)).order_by(Member.id)
    with read_snapshot(db.engine) as connection:
        session = Session(bind=connection)
        expected = [tuple(row) for row in session.execute(query)]
        got = [tuple(row) for row in stream(session, query, chunk)]
        session.close()
    assert len(expected) == 7
    assert got == expected
    assert got[0] == ("1", "Name 0¦x")


def test_processed_columns_keep_their_processing(app: Flask) -> None:
    member = enrol("B1")
    db.session.commit()
    query: Any = select(Member.enrolled_at).where(Member.id == member.id)
    with read_snapshot(db.engine) as connection:
        session = Session(bind=connection)
        (row,) = list(stream(session, query))
        session.close()
    # UTCDateTime's result processing ran: an aware datetime, not the stored text.
    assert row[0] == member.enrolled_at
    assert row[0].tzinfo is not None


AWKWARD = "Zoë \\ back\\slash \\n \x08\x0b\x0c\x01 100% %% %(x)s ¦ 東京"


def _records_both_ways(query: Any) -> tuple[list[bytes] | None, list[bytes]]:
    from exporters.stream import copy_records

    with read_snapshot(db.engine) as connection:
        session = Session(bind=connection)
        copied = copy_records(session, query, "|")
        by_copy = list(copied) if copied is not None else None
        by_rows = ["|".join(row).encode() for row in stream(session, query)]
        session.close()
    return by_copy, by_rows


def test_copy_gives_the_bytes_of_the_rows_with_every_escape_undone(app: Flask) -> None:
    """On PostgreSQL the exporters stream through COPY: the same bytes as the rows, for
    values COPY escapes (backslash, control characters) and SQL that holds '%'."""
    for n in range(3):
        enrol(f"C{n}", first_name=f"Name {n}")
    db.session.commit()
    db.session.execute(Member.__table__.update().values(last_name=AWKWARD))
    db.session.commit()
    query = (
        select(
            int_field(Member.id),
            text_field(Member.last_name),
            text_field(Member.first_name + literal("|50%")),
        )
        .where(Member.last_name.like("Zo%"))
        .order_by(Member.id)
    )
    by_copy, by_rows = _records_both_ways(query)
    assert len(by_rows) == 3 and AWKWARD.replace("|", "¦").encode() in by_rows[0]
    if db.engine.dialect.name != "postgresql":
        assert by_copy is None  # SQLite has no COPY: the rows path
        return
    assert by_copy == by_rows


def test_copy_is_not_used_for_columns_a_type_processes(app: Flask) -> None:
    enrol("D1")
    db.session.commit()
    by_copy, _ = _records_both_ways(select(int_field(Member.id), text_field(Member.last_name)))
    assert by_copy is not None or db.engine.dialect.name != "postgresql"
    from exporters.stream import copy_records

    with read_snapshot(db.engine) as connection:
        session = Session(bind=connection)
        assert copy_records(session, select(Member.enrolled_at), "|") is None
        session.close()
