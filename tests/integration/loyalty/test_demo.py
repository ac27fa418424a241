"""The demo program: deterministic, consistent with the services' rules, and alive."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from loyalty.changefeed import changes_since
from loyalty.demo import people
from loyalty.demo.seed import REFERENCE_TABLES, SeedError, seed
from loyalty.models import (
    ChangeLog,
    Member,
    MemberProductPurchase,
    PointBalance,
    PointExpirationProjection,
    PointLedgerEntry,
    TransactionLine,
)
from loyalty.primary import mobile_phone_of, primary_account_id_of, primary_email_of
from tests.fixtures.database import empty_all_tables
from webapp.extensions import db

AS_OF = date(2026, 11, 1)


def _digest() -> str:
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for name in (*REFERENCE_TABLES, *people.TABLES):
            table = db.metadata.tables[name]
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _seed(members: int, seed_value: int = 3) -> Any:
    return seed(db.engine, members, seed=seed_value, as_of=AS_OF, chunk_size=97)


def test_same_seed_same_data_and_another_seed_other_data(app: Any) -> None:
    first = _seed(240)
    digest = _digest()
    empty_all_tables("")
    second = _seed(240)
    assert _digest() == digest and first.rows == second.rows
    empty_all_tables("")
    _seed(240, seed_value=4)
    assert _digest() != digest


@pytest.mark.slow  # starts two worker processes
def test_parallel_generation_gives_the_same_data(app: Any) -> None:
    seed(db.engine, 150, seed=3, as_of=AS_OF, chunk_size=40, workers=2)
    digest = _digest()
    empty_all_tables("")
    seed(db.engine, 150, seed=3, as_of=AS_OF, chunk_size=40, workers=1)
    assert _digest() == digest


def test_seeded_program_obeys_the_rules_of_the_services(app: Any) -> None:
    result = _seed(400)
    s = db.session
    assert result.rows["members"] == 400 and result.rows["transactions"] > 300
    # Nothing in the change log: the seeded history predates change capture.
    assert s.scalar(select(func.count()).select_from(ChangeLog)) == 0
    if db.engine.dialect.name == "sqlite":
        assert s.execute(text("PRAGMA foreign_key_check")).all() == []
    # Balances are the sum of the ledger, and never hide an uncovered debit.
    sums = dict(
        s.execute(
            select(PointLedgerEntry.member_id, func.sum(PointLedgerEntry.points)).group_by(
                PointLedgerEntry.member_id
            )
        ).all()
    )
    for member_id, balance in s.execute(select(PointBalance.member_id, PointBalance.balance)).all():
        assert Decimal(str(sums.get(member_id, 0))) == balance, member_id
    # The maintained contact columns follow the SQL rules.
    rows = s.execute(
        select(
            Member.primary_account_id,
            Member.primary_email,
            Member.mobile_phone,
            primary_account_id_of(Member.id),
            primary_email_of(Member.id),
            mobile_phone_of(Member.id),
        )
    ).all()
    assert all(r[:3] == r[3:] for r in rows)
    assert sum(1 for r in rows if r[0]) > 350
    # Lifetime purchase quantities are the non-cancelled basket lines.
    from loyalty.models import Transaction

    lines = {
        (m, p): q
        for m, p, q in s.execute(
            select(
                Transaction.member_id,
                TransactionLine.product_id,
                func.sum(TransactionLine.quantity),
            )
            .join(Transaction, Transaction.id == TransactionLine.transaction_id)
            .where(Transaction.status == "posted")
            .group_by(Transaction.member_id, TransactionLine.product_id)
        )
    }
    stored = {
        (m, p): q
        for m, p, q in s.execute(
            select(
                MemberProductPurchase.member_id,
                MemberProductPurchase.product_id,
                MemberProductPurchase.quantity,
            )
        )
    }
    assert stored == {k: v for k, v in lines.items() if v} and len(stored) > 300
    # Projections are what the point service computes from the ledger.
    seeded = s.execute(
        select(
            PointExpirationProjection.member_id,
            PointExpirationProjection.cycle,
            PointExpirationProjection.points,
        ).order_by(PointExpirationProjection.member_id, PointExpirationProjection.cycle)
    ).all()
    processed = s.scalar(select(PointExpirationProjection.processed_at).limit(1))
    from loyalty.services.points import project_point_expirations

    project_point_expirations(s, list(range(1, 401)), processed_at=processed)
    again = s.execute(
        select(
            PointExpirationProjection.member_id,
            PointExpirationProjection.cycle,
            PointExpirationProjection.points,
        ).order_by(PointExpirationProjection.member_id, PointExpirationProjection.cycle)
    ).all()
    assert seeded == again and len(seeded) > 50
    # Names exporters must cope with.
    last_names = set(s.scalars(select(Member.last_name)))
    assert any("'" in n for n in last_names) and any(not n.isascii() for n in last_names)
    assert any("|" in n for n in last_names)
    s.rollback()


def test_seed_refuses_a_database_that_holds_a_program(app: Any) -> None:
    _seed(20)
    # The indexes (and PostgreSQL foreign keys) the seed deferred are all back.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
    with pytest.raises(SeedError, match="already holds"):
        _seed(20)


def test_cli_seed_then_activity_feeds_the_incremental_exports(app: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed", "--members", "300", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "Seeded 300 members" in result.output
    again = runner.invoke(args=["demo", "seed", "--members", "300"])
    assert again.exit_code != 0 and "already holds" in again.output
    result = runner.invoke(args=["demo", "activity", "--days", "2", "--per-day", "45"])
    assert result.exit_code == 0, result.output
    from loyalty.engine import read_snapshot

    with read_snapshot(db.engine) as conn:
        kinds = {row.kind for row in changes_since(conn, None).rows}
    assert {"member", "transaction", "reward"} <= kinds and len(kinds) >= 6
    s = db.session
    sums = dict(
        s.execute(
            select(PointLedgerEntry.member_id, func.sum(PointLedgerEntry.points)).group_by(
                PointLedgerEntry.member_id
            )
        ).all()
    )
    for member_id, balance in s.execute(select(PointBalance.member_id, PointBalance.balance)).all():
        assert Decimal(str(sums.get(member_id, 0))) == balance, member_id
    mismatched = s.execute(
        select(Member.id).where(
            func.coalesce(Member.primary_account_id, "")
            != func.coalesce(primary_account_id_of(Member.id), "")
        )
    ).all()
    assert mismatched == []


def test_activity_needs_a_program(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "activity", "--days", "1"])
    assert result.exit_code != 0 and "flask demo seed" in result.output


def test_seed_fails_clearly_while_another_transaction_holds_the_tables(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no lock timeout for DDL; PostgreSQL waits, so it must give up")
    from loyalty.demo import bulk

    monkeypatch.setattr(bulk, "LOCK_TIMEOUT_SECONDS", 1)
    with db.engine.connect() as reader:
        reader.execute(select(func.count()).select_from(Member))  # an open read transaction
        with pytest.raises(SeedError, match="Another connection holds the loyalty tables"):
            _seed(10)
    # Nothing was seeded and the schema is whole: every index and key is still there.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        assert connection.execute(select(func.count()).select_from(Member)).scalar_one() == 0
    _seed(10)  # and with the transaction gone, the seed goes through
