"""The reference queries (what the benchmark runs through sqlite3 / COPY) give exactly the
records of the files the exporters write, for every option that changes the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

import exporters
from exporters.base import ExportContext
from loyalty.engine import read_snapshot
from loyalty.models import Campaign, Product, Promotion, TransactionType
from loyalty.services import catalog, engagement, points, rankings, transactions
from loyalty.services.transactions import LineInput
from tests.fixtures.exports import RUN_START
from tests.integration.exporters.members_b_support import at, enrol
from webapp.extensions import db

EARNED = [
    datetime(2025, 11, 3, tzinfo=UTC),
    datetime(2025, 12, 3, tzinfo=UTC),
    datetime(2026, 1, 3, tzinfo=UTC),
]


def data() -> dict[str, int]:
    kind = catalog.create(db.session(), TransactionType, ext_ref="BUY", name="Buy")
    item = catalog.create(db.session(), Product, sku="0001", name="Thing|one")
    campaign = catalog.create(
        db.session(), Campaign, ext_ref="C1", name="C", starts_on=date(2026, 1, 1)
    )
    promotion = catalog.create(
        db.session(), Promotion, ext_ref="P1", name="P", starts_on=date(2026, 1, 1)
    )
    people = [enrol(f"R{n}", when=at(), first_name=f"Zoë {n}") for n in range(3)]
    for n, member in enumerate(people):
        rankings.set_rfm_scores(db.session(), member, n, 5 - n, 2, at=at())
        points.adjust_points(db.session(), member, 10 * (n + 1), at=EARNED[n])
        transactions.post_transaction(
            db.session(),
            member,
            kind,
            occurred_at=at(),
            lines=[LineInput(item, n + 1, "2.00")],
            at=at(),
        )
        engagement.join_campaign(
            db.session(), member, campaign, joined_on=date(2026, 2, 1), at=at()
        )
        engagement.join_promotion(
            db.session(), member, promotion, joined_on=date(2026, 3, 1), at=at()
        )
    points.project_point_expirations(db.session(), [m.id for m in people], processed_at=at(20))
    db.session.commit()
    return {"campaign_id": campaign.id, "promotion_id": promotion.id}


@pytest.mark.parametrize(
    ("key", "options"),
    [
        ("member_rfm", {}),
        ("member_rfm", {"header": True, "max_records": 2}),
        ("member_future_point_expiration", {}),
        ("member_future_point_expiration", {"member_selection": "expiring_next"}),
        ("member_product_purchases", {}),
        ("member_product_purchases", {"include_cancellations": True}),
        ("campaign_member", {}),
        ("promotion_member", {"max_records": 1}),
    ],
)
def test_reference_queries_give_the_files_records(
    app: Flask, tmp_path: Any, key: str, options: dict[str, Any]
) -> None:
    ids = data()
    sync_type = exporters.get(key)
    scope = {sync_type.scope.key: ids[sync_type.scope.key]} if sync_type.scope else {}
    with read_snapshot(db.engine) as connection:
        session = Session(bind=connection)
        context = ExportContext(
            session=session,
            sync_id=1,
            instance_id=1,
            scope=scope,
            options={**sync_type.default_options(), **options},
            run_started_at=RUN_START,
            timezone="UTC",
            out_dir=tmp_path,
            watermark=None,
        )
        result = sync_type.export(context)
        assert sync_type.reference_queries is not None
        queries = sync_type.reference_queries(context)
        expected = ["|".join(row) for q in queries for row in session.execute(q)]
        session.close()
    written: list[str] = []
    for original in result.files:
        lines = original.path.read_bytes().decode("utf-8").split("\r\n")[:-1]
        has_header = sync_type.file_kinds[0].header or bool(options.get("header"))
        written += lines[1:] if has_header else lines
    assert len(written) >= 1
    assert written == expected
