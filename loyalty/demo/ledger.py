"""One member's point history, replayed in time order (credits, reward charges, reversals,
refunds and the nightly FIFO expiration), and the rewards issued along the way.

Replaying in order is what makes the seeded balances, lifetime counters, ledger rows and
projections agree exactly with what the point services would have written.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyalty.demo import names
from loyalty.demo.fixed_reference import FREE_REWARDS, REWARD_TYPES
from loyalty.demo.schema import DAY, EPOCH_DATE, LEDGER, REWARD_EVENTS

if TYPE_CHECKING:
    from loyalty.demo.people import ChunkGenerator

_REWARD = {t[0]: t for t in REWARD_TYPES}


@dataclass
class Points:
    """One member's point history, simulated in time order."""

    balance: int = 0
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    buckets: list[list[Any]] = field(default_factory=list)  # [expires_on, remaining], oldest first
    credits: list[tuple[date, int]] = field(default_factory=list)  # all positive entries

    def credit(self, points: int, expires_on: date) -> None:
        self.balance += points
        self.buckets.append([expires_on, points])
        self.credits.append((expires_on, points))

    def debit(self, points: int) -> None:
        self.balance -= points
        left = points
        for bucket in self.buckets:
            if left <= 0:
                break
            take = min(bucket[1], left)
            bucket[1] -= take
            left -= take
        self.buckets = [b for b in self.buckets if b[1] > 0]


def simulate(
    g: ChunkGenerator,
    mid: int,
    points: Points,
    events: list[tuple[float, int, str, Any]],
    home: int,
) -> None:
    """Replay credits, debits and reward issues in time order, with FIFO expiration."""
    ts, day = g.fmt.ts, g.fmt.day
    rows = g.rows
    ledger = rows["point_ledger"]
    k = 0

    def entry(
        kind: str,
        amount: int,
        when: float,
        expires_on: date | None,
        tid: Any,
        bid: Any,
        rid: Any,
        text: str,
    ) -> None:
        nonlocal k
        ledger.append(
            (
                mid * LEDGER + k,
                mid,
                kind,
                amount,
                ts(when),
                day(expires_on) if expires_on else None,
                tid,
                bid,
                rid,
                None,
                text,
            )
        )
        k += 1

    def expire_until(moment: float) -> None:
        # The batch runs at 03:00 UTC on the day after a bucket's last valid day.
        while points.buckets:
            expires_on = points.buckets[0][0]
            batch = (expires_on - EPOCH_DATE).days * DAY + DAY + 3 * 3600
            if batch > moment:
                return
            due = sum(b[1] for b in points.buckets if b[0] == expires_on)
            points.buckets = [b for b in points.buckets if b[0] != expires_on]
            points.balance -= due
            points.expired += due
            entry("expire", -due, batch, None, None, None, None, "Automatic point expiration")

    queue = [(when, order, n, what, data) for n, (when, order, what, data) in enumerate(events)]
    heapq.heapify(queue)
    while queue:
        when, _, _, what, data = heapq.heappop(queue)
        expire_until(when)
        if what == "credit":
            kind, amount, tid, bid, text = data
            expires_on = g.expires(when)
            points.credit(amount, expires_on)
            points.earned += amount
            entry(kind, amount, when, expires_on, tid, bid, None, text)
        elif what == "debit":
            kind, amount, tid, bid, text = data
            points.debit(amount)
            points.earned -= amount
            entry(kind, -amount, when, None, tid, bid, None, text)
        elif what == "reward":
            rid, type_id = data
            cost = int(_REWARD[type_id][6])
            if cost and points.balance < cost:
                type_id, cost = g.pick(FREE_REWARDS), 0
            if cost:
                points.debit(cost)
                points.redeemed += cost
                entry("redeem", -cost, when, None, None, None, rid, _REWARD[type_id][1][:120])
            refund_at = reward(g, mid, rid, type_id, when, home, cost)
            if refund_at is not None and cost:
                # A cancelled reward bought with points gives them back, when cancelled.
                heapq.heappush(queue, (refund_at, 4, len(events) + rid, "refund", (rid, cost)))
        elif what == "refund":
            rid, cost = data
            points.credit(cost, g.expires(when))
            points.redeemed -= cost
            entry("refund", cost, when, g.expires(when), None, None, rid, "Reward cancelled")
    expire_until(g.now)


def reward(
    g: ChunkGenerator, mid: int, rid: int, type_id: int, issued: float, home: int, cost: int
) -> float | None:
    """Write one issued reward and its events; returns when it was cancelled, if it was."""
    r = g.rng.random
    ts, day = g.fmt.ts, g.fmt.day
    now = g.now
    retail, valid = _REWARD[type_id][5], _REWARD[type_id][7]
    expires_on = g.day(issued) + timedelta(days=valid) if valid else None
    events: list[tuple[str, float, Any, Any, Any]] = [("issued", issued, None, None, home)]
    status, redeemed_at, cancelled_at, expired_at = "active", None, None, None
    limit = now if expires_on is None else min(now, (expires_on - EPOCH_DATE).days * DAY + DAY - 1)
    after = issued  # every later event happens after the previous one
    roll = r()
    if roll < 0.04 and expires_on is not None and limit > issued:
        changed = g.between(issued, limit)
        after = changed
        new = expires_on + timedelta(days=30)
        events.append(("expiration_changed", changed, expires_on, new, None))
        expires_on = new
        limit = min(now, (expires_on - EPOCH_DATE).days * DAY + DAY - 1)
    roll = r()
    if roll < 0.45 and limit > after:
        redeemed_at = g.between(after, limit)
        events.append(("redeemed", redeemed_at, None, None, home))
        status = "redeemed"
        if r() < 0.06 and redeemed_at < limit - 60:
            reversed_at = g.between(redeemed_at, limit)
            events.append(("redemption_reversed", reversed_at, None, None, None))
            status, redeemed_at = "active", None
    elif roll < 0.52:
        cancelled_at = g.between(after, now)
        events.append(("cancelled", cancelled_at, None, None, None))
        status = "cancelled"
    if status == "active" and expires_on is not None and expires_on < g.as_of:
        expired_at = (expires_on - EPOCH_DATE).days * DAY + DAY + 3 * 3600
        if expired_at < now:
            events.append(("expired", expired_at, None, None, None))
            status = "expired"
        else:
            expired_at = None
    last = max(e[1] for e in events)
    g.rows["rewards"].append(
        (
            rid,
            mid,
            type_id,
            f"RW{rid:014d}",
            status,
            retail,
            cost,
            ts(issued),
            home,
            day(expires_on) if expires_on else None,
            ts(redeemed_at) if redeemed_at else None,
            home if redeemed_at else None,
            ts(cancelled_at) if cancelled_at else None,
            ts(expired_at) if expired_at else None,
            ts(last),
        )
    )
    for k, (kind, when, previous, new, location) in enumerate(sorted(events, key=lambda e: e[1])):
        returned = cost if kind == "cancelled" and cost else None
        actor = (
            "batch"
            if kind == "expired"
            else (g.pick(names.CSR_USERS) if kind in ("cancelled", "redemption_reversed") else None)
        )
        g.rows["reward_events"].append(
            (
                rid * REWARD_EVENTS + k,
                rid,
                kind,
                ts(when),
                location,
                day(previous) if previous else None,
                day(new) if new else None,
                returned,
                actor,
            )
        )
    if r() < 0.1:
        g.rows["reward_custom_values"].append(
            (rid, 10, "true" if r() < 0.7 else "false", ts(issued))
        )
    return cancelled_at
