"""Members and everything that hangs off them, generated a chunk of members at a time.

Each chunk draws from its own random stream (``Random(f"{seed}:{chunk}")``) and derives
every row id from the member id (e.g. transaction ``member_id * 32 + k``), so chunks are
independent of each other: the same seed gives the same rows whether chunks are generated
in order, in another process, or on another day with the same ``as_of``. The ids are
therefore sparse; nothing in the model or the layouts asks them to be dense.

``ChunkGenerator.member`` builds one member as a list of named steps. Account ids, emails,
phones and addresses are written by ``contacts``; transactions by ``baskets``; the point
history is simulated in ``ledger``; the engagement side (interactions, answers, cases,
memberships, children, clubs) is written by ``extras``; column orders and id strides are in
``schema``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.demo import baskets, contacts, extras, ledger, names
from loyalty.demo.baskets import Events
from loyalty.demo.bulk import Formats
from loyalty.demo.contacts import AccountIdDraft
from loyalty.demo.fixed_reference import BOUGHT_REWARDS, FREE_REWARDS
from loyalty.demo.ledger import Points
from loyalty.demo.reference import Location, Reference
from loyalty.demo.schema import (
    BONUSES,
    DAY,
    EPOCH_DATE,
    RANKING_ROWS,
    REWARDS,
    TABLES,
    TRANSACTIONS,
    YEAR,
    Chunk,
)
from loyalty.services import expiry


@dataclass(slots=True)
class Person:
    """One member while it is being built: what a step drew that later steps need."""

    mid: int
    gender: str
    first: str
    last: str
    middle: str | None
    prefix: str | None
    suffix: str | None
    birth: tuple[int | None, int | None, int | None]  # year, month, day: each may be unknown
    status: str
    enrolled: float
    window_start: float  # the seeded year, or from enrolment if later
    source: str
    home: Location
    enrol_location: int
    city: tuple[str, ...]  # names.CITIES row of the home store
    household_id: int | None = None
    head: bool = False
    ids: list[AccountIdDraft] = field(default_factory=list)
    primary_id: str | None = None
    mobile: str | None = None
    email: str | None = None
    has_home: bool = False
    points: Points = field(default_factory=Points)
    events: Events = field(default_factory=list)  # point movements for the ledger replay
    txn_days: list[float] = field(default_factory=list)
    last_txn: float = 0.0
    spend_year: float = 0.0
    lapsed: bool = False
    level: int | None = None


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
        """Build one member and everything that hangs off it.

        Every step draws from the chunk's one random stream, so their order (and the order
        of the draws inside each) is what makes a seed give the same data: keep both.
        """
        p = self.identity(mid)
        p.household_id, p.head = self.household_for(mid, p.last, p.enrolled)
        contacts.account_ids(self, p)
        p.mobile = contacts.mobile_number(self, p)  # here: a phone-number id derives from it
        contacts.phone_number_id(self, p)
        contacts.account_id_rows(self, p)
        contacts.emails(self, p)
        contacts.phones(self, p)
        contacts.addresses(self, p)
        self.opening_balance(p)
        self.transactions(p)
        self.promo_codes(p)
        self.rewards(p)
        ledger.simulate(self, mid, p.points, p.events, p.home.id)
        self.point_balance(p)
        self.spend_ranking(p)
        interaction_count = extras.interactions(
            self,
            mid,
            p.first,
            p.source,
            p.enrolled,
            p.window_start,
            p.email,
            p.mobile,
            p.has_home,
            p.birth,
            p.status,
        )
        self.engagement_ranking(p, interaction_count)
        self.descriptors(p)
        self.rfm_scores(p)
        self.engagement(p)
        self.member_row(p)

    # -- the steps, in the order ``member`` takes them -----------------------------------

    def identity(self, mid: int) -> Person:
        """Name, birthdate, status, enrolment (when, how, where) and home store."""
        r = self.rng.random
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
        enrolled = self.now - DAY - (r() ** 1.6) * 5 * YEAR
        source = self.pick(("pos", "pos", "web", "app", "import"))
        home = self.pick(self.stores)
        return Person(
            mid=mid,
            gender=gender,
            first=first,
            last=last,
            middle=middle,
            prefix=prefix,
            suffix=suffix,
            birth=birth,
            status=status,
            enrolled=enrolled,
            window_start=max(enrolled, self.now - YEAR),
            source=source,
            home=home,
            enrol_location=self.ref.web_location if source in ("web", "app") else home.id,
            city=names.CITIES[home.city],
        )

    def household_for(self, mid: int, last: str, enrolled: float) -> tuple[int | None, bool]:
        """A few members start a household (as its head); the next one or two join it."""
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

    def opening_balance(self, p: Person) -> None:
        """Members who joined before the seeded year often bring a migrated balance."""
        r = self.rng.random
        now = self.now
        if p.enrolled < now - 400 * DAY and r() < 0.7:
            when = self.between(max(p.enrolled, now - 700 * DAY), now - 380 * DAY)
            p.events.append(
                (when, 0, "credit", ("adjust", 50 + int(r() * 1450), None, None, "Opening balance"))
            )

    def transactions(self, p: Person) -> None:
        p.txn_days, p.last_txn, p.spend_year = baskets.transactions(
            self, p.mid, p.home, p.window_start, p.status, p.events
        )
        p.lapsed = p.status == "active" and p.last_txn < self.now - 180 * DAY

    def promo_codes(self, p: Person) -> None:
        """A few members used a promo code (a bonus and a promotion membership)."""
        r = self.rng.random
        ts, day = self.fmt.ts, self.fmt.day
        mid, now = p.mid, self.now
        for promotion_id, code, bonus, starts in (
            (2, "WELCOME10", 10, now - YEAR),
            (3, "SUMMER25", 25, now - 150 * DAY),
        ):
            if p.status != "deleted" and r() < (0.06 if promotion_id == 2 else 0.03):
                when = self.between(max(p.enrolled, starts), now - 60)
                bid = (
                    mid * BONUSES + TRANSACTIONS - promotion_id
                )  # clear of transaction-linked bonus ids
                self.rows["transaction_bonuses"].append(
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
                self.rows["promotion_members"].append(
                    (promotion_id, mid, day(self.day(when)), None)
                )
                p.events.append(
                    (when, 1, "credit", ("bonus", bonus, None, bid, f"Promo code {code}"))
                )

    def rewards(self, p: Person) -> None:
        """Rewards issued now and then; the ledger replay charges bought ones when the
        member has the points at that moment."""
        r = self.rng.random
        reward_count = (1 + (r() < 0.3)) if p.status != "deleted" and r() < 0.35 else 0
        for k in range(reward_count):
            issued = self.between(p.window_start, self.now - 3600)
            bought = r() < 0.45
            type_id = self.pick(BOUGHT_REWARDS if bought else FREE_REWARDS)
            p.events.append((issued, 3, "reward", (p.mid * REWARDS + k, type_id)))

    def point_balance(self, p: Person) -> None:
        """The balance the ledger replay left, and last night's expiration projection."""
        ts, day = self.fmt.ts, self.fmt.day
        now, points = self.now, p.points
        self.rows["point_balances"].append(
            (p.mid, points.balance, points.earned, points.redeemed, points.expired, ts(now - 60))
        )
        processed = now - 22 * 3600  # yesterday's batch at 02:00 UTC
        credits = [(expires_on, Decimal(amount)) for expires_on, amount in points.credits]
        projection = expiry.project(credits, Decimal(points.balance), self.day(processed))
        for cycle, amount_due in projection.items():
            ends = expiry.cycle_dates(self.day(processed))
            self.rows["point_expiration_projections"].append(
                (p.mid, cycle, day(ends[cycle - 1]), int(amount_due), ts(processed))
            )

    def spend_ranking(self, p: Person) -> None:
        """The spend tier from the last year's spend (Gold carries its descriptor)."""
        if p.status == "deleted":
            return
        spend_year = p.spend_year
        p.level = (
            1 if spend_year < 100 else 2 if spend_year < 500 else 3 if spend_year < 1500 else 4
        )
        joined = self.between(p.enrolled, self.now)
        self.rows["member_rankings"].append(
            (p.mid * RANKING_ROWS, p.mid, 1, p.level, self.fmt.ts(p.enrolled), self.fmt.ts(joined))
        )
        if p.level == 4:
            extras.descriptor(self, p.mid, 6, joined, None, "ranking")

    def engagement_ranking(self, p: Person, interaction_count: int) -> None:
        """Half the members are ranked by engagement, from their interactions."""
        if p.status != "deleted" and self.rng.random() < 0.5:
            eng = 5 if interaction_count < 2 else 6 if interaction_count < 4 else 7
            joined = self.between(p.enrolled, self.now)
            self.rows["member_rankings"].append(
                (
                    p.mid * RANKING_ROWS + 1,
                    p.mid,
                    2,
                    eng,
                    self.fmt.ts(p.enrolled),
                    self.fmt.ts(joined),
                )
            )
            if eng == 7:
                extras.descriptor(self, p.mid, 7, joined, None, "ranking")

    def descriptors(self, p: Person) -> None:
        """Manual, imported and batch descriptors (those already expired are left out)."""
        if p.status == "deleted":
            return
        r = self.rng.random
        mid, enrolled, now = p.mid, p.enrolled, self.now
        if r() < 0.35:
            extras.descriptor(self, mid, 2, self.between(enrolled, now), None, "manual")
        if r() < 0.06 or (p.level == 4 and r() < 0.5):
            assigned = now - r() * 89 * DAY
            extras.descriptor(
                self, mid, 1, assigned, self.day(assigned) + timedelta(days=90), "manual"
            )
        if r() < 0.005:
            extras.descriptor(self, mid, 3, enrolled, None, "import")
        if p.birth[1] is not None and r() < 0.15:
            assigned = now - r() * 300 * DAY
            extras.descriptor(
                self, mid, 4, assigned, self.day(assigned) + timedelta(days=365), "manual"
            )
        if p.lapsed and r() < 0.5:
            assigned = now - r() * 29 * DAY
            extras.descriptor(
                self, mid, 5, assigned, self.day(assigned) + timedelta(days=30), "batch"
            )
        if r() < 0.05:
            extras.descriptor(self, mid, 8, self.between(enrolled, now), None, "manual")

    def rfm_scores(self, p: Person) -> None:
        """Recency, frequency and monetary scores (1-5) of members who bought anything."""
        if not p.txn_days:
            return
        now, spend_year = self.now, p.spend_year
        recency_days = (now - p.last_txn) / DAY
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
        distinct = sorted({int(t // DAY) for t in p.txn_days})
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
        self.rows["member_rfm_scores"].append(
            (p.mid, recency, frequency, monetary, self.fmt.ts(now - 3600))
        )

    def engagement(self, p: Person) -> None:
        """Survey answers, now and then a case, memberships, children, clubs, custom fields."""
        mid = p.mid
        extras.answers(self, mid, p.window_start, p.home.id, p.status)
        if p.status != "deleted" and self.rng.random() < 0.015:
            extras.case(self, mid, p.window_start)
        extras.memberships(
            self, mid, p.enrolled, p.birth, p.lapsed, any(t == 2 for _, t, *_ in p.ids), p.status
        )
        extras.profile_extras(self, mid, p.enrolled, p.home.id)

    def member_row(self, p: Person) -> None:
        """The member row itself, last: it carries what the other steps decided (household,
        primary id, email, mobile, last change)."""
        r = self.rng.random
        ts = self.fmt.ts
        mid, enrolled, events = p.mid, p.enrolled, p.events
        updated = max([enrolled, *(e[0] for e in events)]) if events else enrolled
        deleted_at = self.between(updated, self.now) if p.status == "deleted" else None
        self.rows["members"].append(
            (
                mid,
                f"CRM{mid:09d}" if r() < 0.2 else None,
                p.prefix,
                p.first,
                p.middle,
                p.last,
                p.suffix,
                *p.birth,
                p.gender,
                r() < 0.08,
                r() < 0.12,
                r() < 0.15,
                r() < 0.1,
                1 if (roll := r()) < 0.6 else 2 if roll < 0.85 else None,
                1 if (roll := r()) < 0.5 else 2 if roll < 0.7 else None,
                p.status,
                ts(enrolled),
                p.enrol_location,
                p.source,
                p.household_id,
                p.head,
                p.primary_id,
                p.email,
                p.mobile,
                ts(deleted_at or updated),
                ts(deleted_at) if deleted_at else None,
            )
        )


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
