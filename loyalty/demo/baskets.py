"""A seeded member's year of transactions: baskets (product flags honoured), cancellations,
transactional bonuses, custom field values and lifetime purchase quantities. Point
movements are handed to the ledger replay as events."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loyalty.demo import names
from loyalty.demo.schema import BONUSES, DAY, LINES, MAX_TRANSACTIONS, TRANSACTIONS, YEAR

if TYPE_CHECKING:
    from loyalty.demo.people import ChunkGenerator
    from loyalty.demo.reference import Location

Events = list[tuple[float, int, str, Any]]


def transactions(
    g: ChunkGenerator, mid: int, home: Location, window_start: float, status: str, events: Events
) -> tuple[list[float], float, float]:
    """Write the member's transactions; returns (days with a kept transaction, the last
    one's time, spend over the last year)."""
    r = g.rng.random
    ts, day = g.fmt.ts, g.fmt.day
    rows = g.rows
    now = g.now
    txn_days: list[float] = []
    last_txn = 0.0
    spend_year = 0.0
    count = (
        0
        if r() < 0.3 or status == "deleted"
        else min(MAX_TRANSACTIONS, 1 + int(-math.log(1.0 - r() * 0.999) * 2.2))
    )
    times = sorted(g.between(window_start, now - 600) for _ in range(count))
    purchases: dict[int, list[Any]] = {}
    products = g.ref.products
    for k, occurred in enumerate(times):
        tid = mid * TRANSACTIONS + k
        roll = r()
        if roll < 0.15:
            location, type_id = g.ref.web_location, 2
        else:
            location = home.id if roll < 0.85 else g.pick(g.stores).id
            type_id = 3 if r() < 0.05 else 1
        earns = type_id != 3
        cancelled = r() < 0.03
        amount = 0.0
        earned = 0
        number = 0
        for _ in range(1 + int(r() * r() * 4)):
            product = products[int(len(products) * r() * r())]
            if product.drop:  # Drop From Basket: never stored
                continue
            quantity = 1 + int(r() ** 3 * 3)
            price = 0.0 if product.zero_retail else product.price
            line_amount = round(price * quantity, 2)
            line_points = int(line_amount) if earns and not product.zero_points else 0
            amount += line_amount
            earned += line_points
            rows["transaction_lines"].append(
                (
                    tid * LINES + number,
                    tid,
                    number + 1,
                    product.id,
                    quantity,
                    price,
                    line_amount,
                    line_points,
                )
            )
            number += 1
            # A cancelled basket's quantities are taken back (as cancel_transaction does).
            slot = purchases.get(product.id)
            if slot is None:
                purchases[product.id] = [0 if cancelled else quantity, occurred]
            else:
                slot[0] += 0 if cancelled else quantity
                slot[1] = occurred
        amount = round(amount, 2)
        posted = min(now - 1, occurred + (r() * DAY if type_id == 2 else r() * 120))
        cancelled_at = min(now - 1, posted + r() * 7 * DAY) if cancelled else None
        local_day = datetime.fromtimestamp(occurred, g.zones[location]).date()
        rows["transactions"].append(
            (
                tid,
                mid,
                type_id,
                location,
                f"{tid:010d}",
                ts(occurred),
                day(local_day),
                ts(posted),
                amount,
                earned,
                "cancelled" if cancelled else "posted",
                ts(cancelled_at) if cancelled_at else None,
                "Customer return" if cancelled else None,
                "pos" if type_id == 1 else "web",
            )
        )
        if earned:
            events.append(
                (
                    posted,
                    1,
                    "credit",
                    (
                        "earn",
                        earned,
                        tid,
                        None,
                        "In-store purchase" if type_id == 1 else "Online order",
                    ),
                )
            )
            if cancelled_at:
                events.append(
                    (
                        cancelled_at,
                        2,
                        "debit",
                        ("reversal", earned, tid, None, "Transaction cancelled"),
                    )
                )
        if earned and r() < 0.07:
            bid = mid * BONUSES + k
            rows["transaction_bonuses"].append(
                (
                    bid,
                    "transactional",
                    mid,
                    tid,
                    1,
                    None,
                    "Double points weekends",
                    earned,
                    ts(posted),
                    ts(cancelled_at) if cancelled_at else None,
                )
            )
            events.append(
                (posted + 1, 1, "credit", ("bonus", earned, tid, bid, "Double points weekends"))
            )
            if cancelled_at:
                events.append(
                    (
                        cancelled_at + 1,
                        2,
                        "debit",
                        ("reversal", earned, tid, bid, "Bonus cancelled"),
                    )
                )
        if type_id == 1 and r() < 0.25:
            rows["transaction_custom_values"].append((tid, 4, str(1 + int(r() * 12)), ts(posted)))
        if r() < 0.1:
            rows["transaction_custom_values"].append((tid, 5, g.pick(names.CSR_USERS), ts(posted)))
        if not cancelled:
            txn_days.append(occurred)
            last_txn = occurred
            if type_id != 3 and occurred > now - YEAR:
                spend_year += amount
    for product_id, (quantity, last_time) in purchases.items():
        if quantity > 0:
            rows["member_product_purchases"].append((mid, product_id, quantity, ts(last_time)))
    return txn_days, last_txn, spend_year
