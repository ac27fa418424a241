"""Members and everything that hangs off them, generated a chunk of members at a time.

Each chunk draws from its own random stream (``Random(f"{seed}:{chunk}")``) and derives
every row id from the member id (e.g. transaction ``member_id * 32 + k``), so chunks are
independent of each other: the same seed gives the same rows whether chunks are generated
in order, in another process, or on another day with the same ``as_of``. The ids are
therefore sparse; nothing in the model or the layouts asks them to be dense.

The point history is simulated in ``ledger``; the engagement side (interactions, answers,
cases, memberships, children, clubs) is written by ``extras``; column orders and id strides
are in ``schema``.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.demo import baskets, extras, ledger, names
from loyalty.demo.bulk import Formats
from loyalty.demo.ledger import Points
from loyalty.demo.reference import BOUGHT_REWARDS, FREE_REWARDS, Reference
from loyalty.demo.schema import (
    ACCOUNT_IDS,
    ADDRESSES,
    BONUSES,
    DAY,
    EMAILS,
    EPOCH_DATE,
    PHONES,
    RANKING_ROWS,
    REWARDS,
    TABLES,
    TRANSACTIONS,
    YEAR,
    Chunk,
)
from loyalty.services import expiry


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in plain if ch.isalnum())


_ASCII = {
    n: _ascii(n) for n in (*names.FEMALE_FIRST, *names.MALE_FIRST, *names.LAST, *names.PIPE_NAMES)
}


class ChunkGenerator:
    def __init__(self, seed: int, chunk: int, ref: Reference, dialect: str, now: float) -> None:
        self.rng = random.Random(f"{seed}:{chunk}")
        self.ref = ref
        self.fmt = Formats(dialect)
        self.now = now  # epoch seconds: the end of the seeded history (as_of, 00:00 UTC)
        self.as_of = ref.as_of
        self.rows: Chunk = {name: [] for name in TABLES}
        self.zones = {loc.id: ZoneInfo(loc.timezone) for loc in ref.locations}
        self.stores = [loc for loc in ref.locations if not loc.online]
        self.expiry_cache: dict[date, date] = {}
        self.household: tuple[int, int] | None = None  # (household id, members still to join)

    # -- helpers ------------------------------------------------------------------------

    def day(self, seconds: float) -> date:
        return EPOCH_DATE + timedelta(days=int(seconds // DAY))

    def expires(self, seconds: float) -> date:
        earned = self.day(seconds).replace(day=1)
        found = self.expiry_cache.get(earned)
        if found is None:
            found = self.expiry_cache[earned] = expiry.points_expire_on(earned)
        return found

    def between(self, start: float, end: float) -> float:
        return start + self.rng.random() * max(0.0, end - start)

    def pick(self, items: Any) -> Any:
        return items[int(self.rng.random() * len(items))]

    # -- one chunk ----------------------------------------------------------------------

    def generate(self, first_id: int, last_id: int) -> Chunk:
        for member_id in range(first_id, last_id + 1):
            self.member(member_id)
        return self.rows

    def member(self, mid: int) -> None:
        r = self.rng.random
        ts, day = self.fmt.ts, self.fmt.day
        rows = self.rows
        now = self.now

        roll = r()
        gender = "Female" if roll < 0.48 else ("Male" if roll < 0.96 else "Undefined")
        first_pool = (
            names.FEMALE_FIRST
            if gender == "Female"
            else names.MALE_FIRST
            if gender == "Male"
            else names.FEMALE_FIRST + names.MALE_FIRST
        )
        first = self.pick(first_pool)
        # About one member in a thousand has the delimiter in their name (exporters must cope).
        last = self.pick(names.PIPE_NAMES) if mid % 1000 == 137 else self.pick(names.LAST)
        middle = (
            (chr(65 + int(r() * 26)) if r() < 0.8 else self.pick(names.MALE_FIRST))
            if r() < 0.3
            else None
        )
        prefix = self.pick(names.PREFIXES) if r() < 0.2 else None
        suffix = self.pick(names.SUFFIXES) if r() < 0.03 else None
        roll = r()
        birth: tuple[int | None, int | None, int | None]
        if roll < 0.8:
            birth = (1940 + int(r() * 67), 1 + int(r() * 12), 1 + int(r() * 28))
        elif roll < 0.85:
            birth = (None, 1 + int(r() * 12), 1 + int(r() * 28))
        else:
            birth = (None, None, None)
        roll = r()
        status = (
            "deleted"
            if roll < 0.01
            else "suspended"
            if roll < 0.02
            else "inactive"
            if roll < 0.05
            else "active"
        )
        enrolled = now - DAY - (r() ** 1.6) * 5 * YEAR
        window_start = max(enrolled, now - YEAR)
        source = self.pick(("pos", "pos", "web", "app", "import"))
        home = self.pick(self.stores)
        enrol_location = self.ref.web_location if source in ("web", "app") else home.id
        city = names.CITIES[home.city]

        household_id, head = self.household_for(mid, last, enrolled)

        # Account ids (primary account id rule: primary-ranked first, then most recent).
        ids: list[tuple[int, int, str, str, float]] = []  # (row id, type, value, status, added)
        k = 0
        if r() < 0.12:
            legacy_added = enrolled - r() * YEAR
            ids.append(
                (
                    mid * ACCOUNT_IDS + k,
                    4,
                    f"L{mid:09d}",
                    "inactive" if r() < 0.5 else "active",
                    legacy_added,
                )
            )
            k += 1
        if r() < 0.96:
            lost = r() < 0.04
            ids.append(
                (
                    mid * ACCOUNT_IDS + k,
                    1,
                    f"6{mid:011d}",
                    "inactive" if lost else "active",
                    enrolled,
                )
            )
            k += 1
            if lost:
                ids.append(
                    (
                        mid * ACCOUNT_IDS + k,
                        1,
                        f"7{mid:011d}",
                        "active",
                        self.between(enrolled, now),
                    )
                )
                k += 1
        if r() < 0.3:
            ids.append(
                (mid * ACCOUNT_IDS + k, 2, f"APP{mid:09d}", "active", self.between(enrolled, now))
            )
            k += 1
        mobile = f"{city[7]} 555-{int(r() * 10000):04d}" if r() < 0.72 else None
        if mobile and k < ACCOUNT_IDS and r() < 0.08:
            digits = "".join(ch for ch in mobile if ch.isdigit())
            ids.append(
                (mid * ACCOUNT_IDS + k, 3, f"{digits}-{mid}", "active", self.between(enrolled, now))
            )
        primary_id = _primary(ids)
        for row_id, type_id, value, id_status, added in ids:
            rows["account_ids"].append(
                (
                    row_id,
                    mid,
                    type_id,
                    value,
                    id_status,
                    ts(added),
                    None if id_status == "active" else ts(self.between(added, now)),
                )
            )

        # Emails, phones, addresses.
        email = None
        if r() < 0.88:
            local = f"{_ASCII[first] or 'member'}.{_ASCII[last] or 'x'}{mid}"
            email = f"{local}@{self.pick(names.EMAIL_DOMAINS)}"
            if r() < 0.1:
                rows["member_emails"].append(
                    (
                        mid * EMAILS + 1,
                        mid,
                        f"old.{local}@example.net",
                        False,
                        ts(enrolled),
                        ts(enrolled),
                    )
                )
            added = ts(enrolled)
            rows["member_emails"].append((mid * EMAILS, mid, email, True, added, added))
        if mobile:
            rows["member_phones"].append(
                (mid * PHONES, mid, "mobile", mobile, ts(enrolled), ts(enrolled))
            )
        if r() < 0.28:
            rows["member_phones"].append(
                (
                    mid * PHONES + 1,
                    mid,
                    "home",
                    f"{city[7]} 555-{int(r() * 10000):04d}",
                    ts(enrolled),
                    ts(enrolled),
                )
            )
        has_home = r() < 0.92
        if has_home:
            rows["member_addresses"].append(
                (
                    mid * ADDRESSES,
                    mid,
                    "home",
                    f"{1 + int(r() * 2999)} {self.pick(names.STREETS)}",
                    f"Apt {1 + int(r() * 40)}{chr(65 + int(r() * 6))}" if r() < 0.15 else None,
                    None,
                    city[0],
                    city[1],
                    _postal(r, city[6]),
                    city[3],
                    True,
                    ts(enrolled),
                    ts(enrolled),
                )
            )
        if r() < 0.08:
            rows["member_addresses"].append(
                (
                    mid * ADDRESSES + 1,
                    mid,
                    "work",
                    f"{1 + int(r() * 500)} {self.pick(names.STREETS)}",
                    "Floor 3",
                    None,
                    city[0],
                    city[1],
                    _postal(r, city[6]),
                    city[3],
                    not has_home,
                    ts(enrolled),
                    ts(enrolled),
                )
            )

        points = Points()
        events: list[tuple[float, int, str, Any]] = []  # (time, order, what, data)

        # Opening balance of members who joined before the seeded year (migrated history).
        if enrolled < now - 400 * DAY and r() < 0.7:
            when = self.between(max(enrolled, now - 700 * DAY), now - 380 * DAY)
            events.append(
                (when, 0, "credit", ("adjust", 50 + int(r() * 1450), None, None, "Opening balance"))
            )

        # Transactions.
        txn_days, last_txn, spend_year = baskets.transactions(
            self, mid, home, window_start, status, events
        )

        # Promo codes.
        for promotion_id, code, bonus, starts in (
            (2, "WELCOME10", 10, now - YEAR),
            (3, "SUMMER25", 25, now - 150 * DAY),
        ):
            if status != "deleted" and r() < (0.06 if promotion_id == 2 else 0.03):
                when = self.between(max(enrolled, starts), now - 60)
                bid = (
                    mid * BONUSES + TRANSACTIONS - promotion_id
                )  # clear of transaction-linked bonus ids
                rows["transaction_bonuses"].append(
                    (
                        bid,
                        "promo_code",
                        mid,
                        None,
                        promotion_id,
                        code,
                        f"Promo code {code}",
                        bonus,
                        ts(when),
                        None,
                    )
                )
                rows["promotion_members"].append((promotion_id, mid, day(self.day(when)), None))
                events.append(
                    (when, 1, "credit", ("bonus", bonus, None, bid, f"Promo code {code}"))
                )

        # Rewards: issued now and then; bought ones need the points at that moment.
        reward_count = (1 + (r() < 0.3)) if status != "deleted" and r() < 0.35 else 0
        for k in range(reward_count):
            issued = self.between(window_start, now - 3600)
            bought = r() < 0.45
            type_id = self.pick(BOUGHT_REWARDS if bought else FREE_REWARDS)
            events.append((issued, 3, "reward", (mid * REWARDS + k, type_id)))

        ledger.simulate(self, mid, points, events, home.id)

        balance = points.balance
        rows["point_balances"].append(
            (mid, balance, points.earned, points.redeemed, points.expired, ts(now - 60))
        )
        processed = now - 22 * 3600  # yesterday's batch at 02:00 UTC
        credits = [(expires_on, Decimal(amount)) for expires_on, amount in points.credits]
        projection = expiry.project(credits, Decimal(balance), self.day(processed))
        for cycle, amount_due in projection.items():
            ends = expiry.cycle_dates(self.day(processed))
            rows["point_expiration_projections"].append(
                (mid, cycle, day(ends[cycle - 1]), int(amount_due), ts(processed))
            )

        # Rankings, descriptors, RFM.
        level = None
        if status != "deleted":
            level = (
                1 if spend_year < 100 else 2 if spend_year < 500 else 3 if spend_year < 1500 else 4
            )
            joined = self.between(enrolled, now)
            rows["member_rankings"].append(
                (mid * RANKING_ROWS, mid, 1, level, ts(enrolled), ts(joined))
            )
            if level == 4:
                extras.descriptor(self, mid, 6, joined, None, "ranking")
        interaction_count = extras.interactions(
            self, mid, first, source, enrolled, window_start, email, mobile, has_home, birth, status
        )
        if status != "deleted" and r() < 0.5:
            eng = 5 if interaction_count < 2 else 6 if interaction_count < 4 else 7
            joined = self.between(enrolled, now)
            rows["member_rankings"].append(
                (mid * RANKING_ROWS + 1, mid, 2, eng, ts(enrolled), ts(joined))
            )
            if eng == 7:
                extras.descriptor(self, mid, 7, joined, None, "ranking")
        lapsed = status == "active" and last_txn < now - 180 * DAY
        if status != "deleted":
            if r() < 0.35:
                extras.descriptor(self, mid, 2, self.between(enrolled, now), None, "manual")
            if r() < 0.06 or (level == 4 and r() < 0.5):
                assigned = now - r() * 89 * DAY
                extras.descriptor(
                    self, mid, 1, assigned, self.day(assigned) + timedelta(days=90), "manual"
                )
            if r() < 0.005:
                extras.descriptor(self, mid, 3, enrolled, None, "import")
            if birth[1] is not None and r() < 0.15:
                assigned = now - r() * 300 * DAY
                extras.descriptor(
                    self, mid, 4, assigned, self.day(assigned) + timedelta(days=365), "manual"
                )
            if lapsed and r() < 0.5:
                assigned = now - r() * 29 * DAY
                extras.descriptor(
                    self, mid, 5, assigned, self.day(assigned) + timedelta(days=30), "batch"
                )
            if r() < 0.05:
                extras.descriptor(self, mid, 8, self.between(enrolled, now), None, "manual")
        if txn_days:
            recency_days = (now - last_txn) / DAY
            recency = (
                5
                if recency_days <= 14
                else 4
                if recency_days <= 45
                else 3
                if recency_days <= 90
                else 2
                if recency_days <= 180
                else 1
            )
            distinct = sorted({int(t // DAY) for t in txn_days})
            if len(distinct) < 2:
                frequency = 0
            else:
                gap = (distinct[-1] - distinct[0]) / (len(distinct) - 1)
                frequency = (
                    5 if gap <= 7 else 4 if gap <= 21 else 3 if gap <= 45 else 2 if gap <= 90 else 1
                )
            monetary = (
                5
                if spend_year >= 2000
                else 4
                if spend_year >= 800
                else 3
                if spend_year >= 300
                else 2
                if spend_year >= 100
                else 1
            )
            rows["member_rfm_scores"].append((mid, recency, frequency, monetary, ts(now - 3600)))

        extras.answers(self, mid, window_start, home.id, status)
        if status != "deleted" and r() < 0.015:
            extras.case(self, mid, window_start)
        extras.memberships(
            self, mid, enrolled, birth, lapsed, any(t == 2 for _, t, *_ in ids), status
        )
        extras.profile_extras(self, mid, enrolled, home.id)

        updated = max([enrolled, *(e[0] for e in events)]) if events else enrolled
        deleted_at = self.between(updated, now) if status == "deleted" else None
        rows["members"].append(
            (
                mid,
                f"CRM{mid:09d}" if r() < 0.2 else None,
                prefix,
                first,
                middle,
                last,
                suffix,
                *birth,
                gender,
                r() < 0.08,
                r() < 0.12,
                r() < 0.15,
                r() < 0.1,
                1 if (roll := r()) < 0.6 else 2 if roll < 0.85 else None,
                1 if (roll := r()) < 0.5 else 2 if roll < 0.7 else None,
                status,
                ts(enrolled),
                enrol_location,
                source,
                household_id,
                head,
                primary_id,
                email,
                mobile,
                ts(deleted_at or updated),
                ts(deleted_at) if deleted_at else None,
            )
        )

    def household_for(self, mid: int, last: str, enrolled: float) -> tuple[int | None, bool]:
        if self.household is not None:
            household_id, left = self.household
            self.household = (household_id, left - 1) if left > 1 else None
            return household_id, False
        if self.rng.random() < 0.04:
            self.household = (mid, 1 + int(self.rng.random() * 2))
            self.rows["households"].append(
                (mid, None, f"{last} household"[:60], self.fmt.ts(enrolled))
            )
            return mid, True
        return None, False


def _primary(ids: list[tuple[int, int, str, str, float]]) -> str | None:
    """The primary account id rule in Python (the seed's twin of ``models.loyalty.primary``)."""
    active = [i for i in ids if i[3] == "active"]
    ranked = [i for i in active if i[1] in (1, 4)] or active  # CARD and LEGACY have rank 1
    if not ranked:
        return None
    return max(ranked, key=lambda i: (i[4], i[0]))[2]


def _postal(r: Any, pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("{d}", i):
            out.append(str(int(r() * 10)))
            i += 3
        elif pattern.startswith("{A}", i):
            out.append(chr(65 + int(r() * 26)))
            i += 3
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def generate_chunk(
    seed: int, chunk: int, first_id: int, last_id: int, ref: Reference, dialect: str, now: float
) -> Chunk:
    """Rows for members ``first_id..last_id`` (a top-level function, so worker processes
    can run it)."""
    return ChunkGenerator(seed, chunk, ref, dialect, now).generate(first_id, last_id)


def as_of_epoch(as_of: date) -> float:
    return (
        datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    ).total_seconds()
