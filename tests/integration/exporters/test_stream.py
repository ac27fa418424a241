"""stream gives exactly the query's rows (on SQLite read from the driver's cursor) across
chunk boundaries, and SQLAlchemy's processed values for columns a type would process."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from exporters.sql import int_field, text_field
from exporters.stream import stream
from tests.integration.exporters.members_b_support import enrol
from webapp.database import read_snapshot
from webapp.extensions import db
from webapp.models.loyalty import Member


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
