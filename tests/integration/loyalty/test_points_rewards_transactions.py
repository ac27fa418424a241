"""Points, rewards and transactions: the money side of the program and its change log."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from loyalty.errors import ValidationError
from loyalty.models import (
    LedgerKind,
    Member,
    MemberProductPurchase,
    PointBalance,
    PointExpirationProjection,
    PointLedgerEntry,
    RewardStatus,
    TransactionLine,
    TransactionStatus,
)
from loyalty.services import points, rewards, transactions
from loyalty.services.transactions import LineInput
from tests.integration.loyalty.conftest import T0, Program


def _balance(program: Program, member: Member) -> PointBalance:
    program.session.expire_all()
    return program.session.get_one(PointBalance, member.id)


def _buy(program: Program, member: Member, **kw):
    p = program.products
    lines = kw.pop(
        "lines",
        [
            LineInput(p["bat"], 2, Decimal("25.00")),
            LineInput(p["mitt"], 1, Decimal("40.50")),
            LineInput(p["bag"], 1, Decimal("0.10")),
            LineInput(p["gift"], 1, Decimal("5.00")),
            LineInput(p["deposit"], 6, Decimal("0.10")),
        ],
    )
    return transactions.post_transaction(
        program.session,
        member,
        program.purchase,
        occurred_at=kw.pop("occurred_at", T0),
        lines=lines,
        location=program.store,
        ext_ref="R-1",
        at=kw.pop("at", T0 + timedelta(minutes=5)),
        **kw,
    )


def test_post_transaction_applies_product_flags_points_and_purchases(
    program: Program, member: Member
) -> None:
    s = program.session
    txn = _buy(program, member)
    s.commit()
    lines = s.scalars(
        select(TransactionLine)
        .where(TransactionLine.transaction_id == txn.id)
        .order_by(TransactionLine.line_number)
    ).all()
    # The deposit is dropped from the basket; gift wrap keeps no retail value; the bag earns nothing.
    assert [(ln.quantity, ln.amount, ln.points) for ln in lines] == [
        (2, Decimal("50.00"), Decimal("50.00")),
        (1, Decimal("40.50"), Decimal("40.00")),
        (1, Decimal("0.10"), Decimal("0.00")),
        (1, Decimal("0.00"), Decimal("0.00")),
    ]
    assert (txn.amount, txn.points) == (Decimal("90.60"), Decimal("90.00"))
    # 12:00 UTC is 07:00 in Toronto: the source date is the location's local date.
    assert txn.source_date == date(2026, 3, 1)
    assert _balance(program, member).balance == Decimal("90.00")
    purchases = dict(
        s.execute(select(MemberProductPurchase.product_id, MemberProductPurchase.quantity)).all()
    )
    assert purchases == {
        program.products["bat"].id: 2,
        program.products["mitt"].id: 1,
        program.products["bag"].id: 1,
        program.products["gift"].id: 1,
    }
    assert [(k, c) for k, c in program.codes(member)[1:]] == [
        ("transaction", "POST"),
        ("member", "8"),
    ]


def test_cancel_takes_back_points_bonuses_and_quantities(program: Program, member: Member) -> None:
    s = program.session
    keep = _buy(program, member, lines=[LineInput(program.products["bat"], 1, Decimal("25"))])
    txn = _buy(program, member)
    bonus = transactions.award_transactional_bonus(s, txn, 15, name="Double day", at=T0)
    s.commit()
    assert _balance(program, member).balance == Decimal("130.00")
    transactions.cancel_transaction(s, txn, reason="Refund", at=T0 + timedelta(days=1))
    s.commit()
    balance = _balance(program, member)
    assert (balance.balance, balance.lifetime_earned) == (Decimal("25.00"), Decimal("25.00"))
    assert txn.status == TransactionStatus.CANCELLED and bonus.cancelled_at is not None
    purchases = dict(
        s.execute(select(MemberProductPurchase.product_id, MemberProductPurchase.quantity)).all()
    )
    assert purchases == {program.products["bat"].id: 1}
    assert keep.status == TransactionStatus.POSTED
    tail = program.codes(member)[-4:]
    assert tail == [("member", "8"), ("member", "8"), ("member", "8"), ("transaction", "CNCL")]
    with pytest.raises(ValidationError, match="already cancelled"):
        transactions.cancel_transaction(s, txn)
    with pytest.raises(ValidationError, match="cancelled"):
        transactions.award_transactional_bonus(s, txn, 5)


def test_promo_code_once_per_member(program: Program, member: Member) -> None:
    s = program.session
    bonus = transactions.apply_promo_code(s, member, "welcome10", at=T0)
    s.commit()
    assert (bonus.points, bonus.promo_code, bonus.transaction_id) == (
        Decimal("10.00"),
        "WELCOME10",
        None,
    )
    with pytest.raises(ValidationError, match="already used"):
        transactions.apply_promo_code(s, member, "WELCOME10", at=T0)
    with pytest.raises(ValidationError, match="not a promo code"):
        transactions.apply_promo_code(s, member, "NOPE", at=T0)
    assert program.codes(member)[-2:] == [("transaction", "PRMO"), ("member", "8")]


def test_burns_need_cover_and_bad_amounts_are_refused(program: Program, member: Member) -> None:
    s = program.session
    points.adjust_points(s, member, 100, description="Goodwill", at=T0)
    with pytest.raises(ValidationError, match="fewer than"):
        points.redeem_points(s, member, 100.01)
    with pytest.raises(ValidationError, match="two decimals"):
        points.adjust_points(s, member, "1.005")
    with pytest.raises(ValidationError):
        points.adjust_points(s, member, 0)
    with pytest.raises(ValidationError):
        points.expire_points(s, member, "lots")
    points.redeem_points(s, member, 60, at=T0)
    points.expire_points(s, member, 40, at=T0)
    s.commit()
    balance = _balance(program, member)
    assert (
        balance.balance,
        balance.lifetime_earned,
        balance.lifetime_redeemed,
        balance.lifetime_expired,
    ) == (0, 100, 60, 40)
    assert program.codes(member)[-2:] == [("member", "8"), ("transaction", "PEXP")]


def test_fifo_expiry_and_projections(program: Program, member: Member) -> None:
    s = program.session
    # 100 earned in Jan 2025 (expire end of Jan 2026), 50 in Mar 2025 (end of Mar 2026).
    points.adjust_points(s, member, 100, at=T0.replace(year=2025, month=1, day=10))
    points.adjust_points(s, member, 50, at=T0.replace(year=2025, month=3, day=5))
    points.redeem_points(
        s, member, 30, at=T0.replace(year=2025, month=4, day=1)
    )  # from the January points
    s.commit()
    projected = points.project_point_expirations(
        s, [member.id], processed_at=T0.replace(year=2026, month=1, day=15)
    )
    s.commit()
    rows = s.execute(
        select(
            PointExpirationProjection.cycle,
            PointExpirationProjection.expires_on,
            PointExpirationProjection.points,
        ).order_by(PointExpirationProjection.cycle)
    ).all()
    assert projected == 2
    assert rows == [
        (1, date(2026, 1, 31), Decimal("70.00")),
        (3, date(2026, 3, 31), Decimal("50.00")),
    ]
    entry = points.expire_due_points(
        s, member, date(2026, 2, 1), at=T0.replace(year=2026, month=2, day=1)
    )
    s.commit()
    assert (
        entry is not None and entry.points == Decimal("-70.00") and entry.kind == LedgerKind.EXPIRE
    )
    assert points.expire_due_points(s, member, date(2026, 2, 1)) is None
    assert _balance(program, member).balance == Decimal("50.00")


def test_reward_lifecycle_with_points_and_records(program: Program, member: Member) -> None:
    s = program.session
    points.adjust_points(s, member, 250, at=T0)
    reward = rewards.issue_reward(
        s, member, program.choice, barcode="BC-1", location=program.store, at=T0
    )
    assert (reward.point_value, reward.expires_on) == (Decimal("200.00"), date(2026, 3, 31))
    assert _balance(program, member).balance == Decimal("50.00")
    with pytest.raises(ValidationError, match="fewer than"):
        rewards.issue_reward(s, member, program.choice, at=T0)
    rewards.redeem_reward(s, reward, location=program.store, at=T0 + timedelta(days=1))
    rewards.reverse_redemption(s, reward, actor="csr:kim", at=T0 + timedelta(days=2))
    rewards.change_reward_expiration(s, reward, date(2026, 5, 1), at=T0 + timedelta(days=3))
    assert rewards.change_reward_expiration(s, reward, date(2026, 5, 1)) is None
    rewards.redeem_reward(s, reward, at=T0 + timedelta(days=4))
    event = rewards.cancel_reward(s, reward, at=T0 + timedelta(days=5))
    s.commit()
    assert event.points_returned == Decimal("200.00") and reward.status == RewardStatus.CANCELLED
    assert _balance(program, member).balance == Decimal("250.00")
    reward_codes = [c.code for c in program.changes(kind="reward")]
    assert reward_codes == ["1", "2", "4", "7", "2", "3"]
    assert all(c.subject_id == reward.id for c in program.changes(kind="reward"))
    with pytest.raises(ValidationError, match="cannot be redeemed"):
        rewards.redeem_reward(s, reward)


def test_forced_rewards_cost_nothing_and_expire(program: Program, member: Member) -> None:
    s = program.session
    reward = rewards.issue_reward(s, member, program.forced, expires_on=date(2026, 3, 10), at=T0)
    assert reward.barcode and reward.point_value == 0
    assert rewards.expire_due_rewards(s, date(2026, 3, 10), at=T0) == 0
    assert rewards.expire_due_rewards(s, date(2026, 3, 11), at=T0 + timedelta(days=10)) == 1
    s.commit()
    assert reward.status == RewardStatus.EXPIRED
    assert [c.code for c in program.changes(kind="reward")] == ["1", "5"]
    with pytest.raises(ValidationError):
        rewards.change_reward_expiration(s, reward, date(2027, 1, 1))
    assert (
        s.scalar(select(PointLedgerEntry.id).where(PointLedgerEntry.reward_id == reward.id)) is None
    )
