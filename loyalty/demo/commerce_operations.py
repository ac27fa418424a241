"""Activity operations on what members buy and earn: transactions (and their
cancellation), promo codes, point adjustments, rewards (issue, redeem, reverse, cancel,
change expiration).

Each takes the ``Simulator`` and the moment of the change, makes it through the domain
services and returns a label for the tally, or None when it found nothing to change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from loyalty.demo import names
from loyalty.demo.simulator import Simulator
from loyalty.models import Reward, RewardStatus, Transaction, TransactionStatus
from loyalty.services import custom_fields, engagement, points, rewards, transactions
from loyalty.services.transactions import LineInput


def purchase(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    r = sim.rng.random
    online = r() < 0.15
    location = (
        next((loc for loc in sim.c.locations if loc.ext_ref == "WEB"), None) if online else None
    )
    location = location or sim.pick(sim.c.locations)
    kind = sim.c.transaction_types.get("ONLINE" if online else "PURCHASE") or next(
        iter(sim.c.transaction_types.values())
    )
    lines = []
    for _ in range(1 + int(r() * r() * 4)):
        product = sim.c.products[int(len(sim.c.products) * r() * r())]
        lines.append(
            LineInput(product, 1 + int(r() ** 3 * 3), Decimal(str(product.unit_price or "4.99")))
        )
    extra = {}
    if sim.c.transaction_fields and r() < 0.25:
        extra[sim.c.transaction_fields[0]] = str(1 + int(r() * 12))
    occurred = at - timedelta(seconds=int(r() * 120))
    txn = transactions.post_transaction(
        sim.s,
        member,
        kind,
        occurred_at=max(occurred, member.enrolled_at),
        lines=lines,
        location=location,
        ext_ref=f"A{int(at.timestamp())}{member.id % 1000:03d}",
        posted_by="pos",
        custom_fields=extra,
        at=at,
    )
    if txn.points > 0 and r() < 0.08:
        bonus = next((p for p in sim.c.promotions if p.promo_code is None), None)
        transactions.award_transactional_bonus(sim.s, txn, txn.points, promotion=bonus, at=at)
    if sim.c.transaction_fields and r() < 0.03:
        custom_fields.set_transaction_custom_field(
            sim.s, txn, sim.pick(sim.c.transaction_fields), "7", at=at
        )
    sim.touched.add(member.id)
    return "transaction"


def cancel(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    txn = sim.s.scalars(
        select(Transaction)
        .where(
            Transaction.member_id == member.id,
            Transaction.status == TransactionStatus.POSTED,
            Transaction.posted_at <= at,
        )
        .order_by(Transaction.occurred_at.desc())
    ).first()
    if txn is None:
        return None
    transactions.cancel_transaction(sim.s, txn, reason="Customer return", at=at)
    sim.touched.add(member.id)
    return "transaction cancelled"


def promo(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    codes = [p for p in sim.c.promotions if p.promo_code]
    if member is None or not codes:
        return None
    promotion = sim.pick(codes)
    assert promotion.promo_code is not None
    transactions.apply_promo_code(sim.s, member, promotion.promo_code, at=at)
    engagement.join_promotion(sim.s, member, promotion, at=at)
    sim.touched.add(member.id)
    return "promo code"


def adjust(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    points.adjust_points(
        sim.s, member, 5 * (1 + int(sim.rng.random() * 20)), description="Goodwill", at=at
    )
    sim.touched.add(member.id)
    return "points adjusted"


def reward(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    roll = sim.rng.random()
    active = sim.s.scalars(
        select(Reward).where(
            Reward.member_id == member.id,
            Reward.status.in_((RewardStatus.ACTIVE, RewardStatus.REDEEMED)),
            Reward.updated_at <= at,
        )
    ).first()
    if roll < 0.45 or active is None:
        affordable = [
            t
            for t in sim.c.reward_types
            if t.point_value == 0 or points.balance_of(sim.s, member.id) >= t.point_value
        ]
        if not affordable:
            return None
        rewards.issue_reward(
            sim.s, member, sim.pick(affordable), location=sim.pick(sim.c.locations), at=at
        )
        label = "reward issued"
    elif active.status == RewardStatus.REDEEMED:
        if roll < 0.8:
            rewards.reverse_redemption(sim.s, active, actor=sim.pick(names.CSR_USERS), at=at)
            label = "redemption reversed"
        else:
            rewards.cancel_reward(sim.s, active, actor=sim.pick(names.CSR_USERS), at=at)
            label = "reward cancelled"
    elif roll < 0.8:
        rewards.redeem_reward(sim.s, active, location=sim.pick(sim.c.locations), at=at)
        label = "reward redeemed"
    elif roll < 0.9 and active.expires_on is not None:
        rewards.change_reward_expiration(
            sim.s, active, active.expires_on + timedelta(days=30), actor="csr", at=at
        )
        label = "reward expiration changed"
    else:
        rewards.cancel_reward(sim.s, active, actor=sim.pick(names.CSR_USERS), at=at)
        label = "reward cancelled"
    sim.touched.add(member.id)
    return label
