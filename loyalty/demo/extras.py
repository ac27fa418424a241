"""The engagement side of a seeded member: descriptors, interactions, survey answers,
cases with their events, campaign and promotion memberships, children, clubs and member
custom field values."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loyalty.demo import names
from loyalty.demo.schema import (
    ANSWERS,
    CASE_EVENTS,
    CHILDREN,
    CLUB_ROWS,
    DAY,
    DESCRIPTOR_ROWS,
    INTERACTIONS,
    YEAR,
)

if TYPE_CHECKING:
    from loyalty.demo.people import ChunkGenerator


def descriptor(
    g: ChunkGenerator,
    mid: int,
    descriptor_id: int,
    assigned: float,
    expires_on: date | None,
    source: str,
) -> None:
    ts = g.fmt.ts
    if expires_on is not None and expires_on < g.as_of:
        return  # the batch would have removed it already
    g.rows["descriptor_assignments"].append(
        (
            mid * DESCRIPTOR_ROWS + descriptor_id,
            mid,
            descriptor_id,
            ts(assigned),
            g.fmt.day(expires_on) if expires_on else None,
            source,
            ts(assigned),
        )
    )


def interactions(
    g: ChunkGenerator,
    mid: int,
    first: str,
    source: str,
    enrolled: float,
    window_start: float,
    email: str | None,
    mobile: str | None,
    has_home: bool,
    birth: tuple[Any, ...],
    status: str,
) -> int:
    r = g.rng.random
    ts = g.fmt.ts
    rows = g.rows["interactions"]
    k = 0
    if source in ("web", "app"):
        # Self-service enrolment: the member's own profile steps, the way the product logs them.
        at = enrolled
        for type_id, present in (
            (12, True),
            (1, birth[1] is not None),
            (2, has_home),
            (3, email is not None),
            (4, mobile is not None),
        ):
            if present:
                rows.append((mid * INTERACTIONS + k, mid, type_id, None, None, ts(at), first, None))
                k += 1
                at += 0.173
    if status == "deleted":
        return k
    for _ in range(int(r() * r() * 4)):
        roll = r()
        when = g.between(window_start, g.now - 60)
        if roll < 0.35:
            rows.append((mid * INTERACTIONS + k, mid, 6, None, None, ts(when), first, None))
        elif roll < 0.6:
            store = g.pick(g.stores).id
            rows.append(
                (
                    mid * INTERACTIONS + k,
                    mid,
                    7,
                    store,
                    1 + int(r() * 3) if r() < 0.1 else None,
                    ts(when),
                    "System",
                    None,
                )
            )
        elif roll < 0.8:
            rows.append(
                (mid * INTERACTIONS + k, mid, 9, None, None, ts(when), "Email service", None)
            )
        elif roll < 0.93:
            rows.append(
                (
                    mid * INTERACTIONS + k,
                    mid,
                    8,
                    None,
                    None,
                    ts(when),
                    g.pick(names.CSR_USERS),
                    "Called about points",
                )
            )
        else:
            rows.append(
                (
                    mid * INTERACTIONS + k,
                    mid,
                    10 if r() < 0.6 else 11,
                    None,
                    None,
                    ts(when),
                    first,
                    None,
                )
            )
        k += 1
    return k


def answers(g: ChunkGenerator, mid: int, window_start: float, home: int, status: str) -> None:
    if status == "deleted":
        return
    r = g.rng.random
    ts = g.fmt.ts
    rows = g.rows["question_answers"]
    k = 0
    plan = []
    if r() < 0.15:
        plan += [1, 2]
    if r() < 0.08:
        plan.append(3 if r() < 0.6 else 5)
    if r() < 0.1:
        plan.append(6 if r() < 0.5 else 7)
    for question in plan:
        choices = g.ref.choices[question]
        when = g.between(window_start, g.now - 60)
        picked = [g.pick(choices)]
        if question in (1, 5):  # multiple-answer questions
            for choice in choices:
                if choice not in picked and r() < 0.3:
                    picked.append(choice)
        for choice_id, text in picked[: ANSWERS - k]:
            rows.append(
                (
                    mid * ANSWERS + k,
                    mid,
                    question,
                    choice_id,
                    text,
                    ts(when),
                    home if r() < 0.3 else None,
                )
            )
            k += 1


def case(g: ChunkGenerator, mid: int, window_start: float) -> None:
    r = g.rng.random
    ts = g.fmt.ts
    opened = g.between(window_start, g.now - DAY)
    user = g.pick(names.CSR_USERS)
    category, queue = 1 + int(r() * 4), 1 + int(r() * 3)
    events: list[tuple[str, float, str, Any, Any, Any, Any]] = [
        ("OPEN", opened, user, None, None, None, "Member called")
    ]
    at = opened
    descriptor = None
    for _ in range(int(r() * 3)):
        at += r() * 2 * DAY
        roll = r()
        if roll < 0.4:
            user = g.pick(names.CSR_USERS)
            events.append(("TOCH", at, user, None, None, None, "Follow-up call"))
        elif roll < 0.6:
            category = 1 + (category % 4)
            events.append(("CCAT", at, user, None, category, None, None))
        elif roll < 0.8:
            queue = 1 + (queue % 3)
            events.append(("CQUE", at, user, None, None, queue, None))
        elif descriptor is None:
            descriptor = 1
            events.append(("ADDD", at, user, descriptor, None, None, None))
    status, closed = "open", None
    if r() < 0.7:
        at += r() * 3 * DAY
        closed = at
        events.append(("CLSD", at, user, None, None, None, "Resolved"))
        status = "closed"
        if r() < 0.07:
            at += r() * 5 * DAY
            user = g.pick(names.CSR_USERS)
            events.append(("REOP", at, user, None, None, None, "Member called back"))
            status, closed = "open", None
    if at >= g.now:  # keep the whole story in the past
        return
    g.rows["cases"].append(
        (
            mid,
            mid,
            "Missing points" if category == 2 else "Account question",
            category,
            queue,
            status,
            user,
            ts(opened),
            ts(closed) if closed else None,
            ts(at),
        )
    )
    for k, (action, when, who, desc, cat, que, note) in enumerate(events):
        g.rows["case_events"].append(
            (mid * CASE_EVENTS + k, mid, action, ts(when), who, desc, cat, que, note)
        )
    if descriptor is not None:
        g.rows["case_descriptors"].append((mid, descriptor, ts(events[-1][1])))


def memberships(
    g: ChunkGenerator,
    mid: int,
    enrolled: float,
    birth: tuple[Any, ...],
    lapsed: bool,
    has_app: bool,
    status: str,
) -> None:
    if status == "deleted":
        return
    r = g.rng.random
    day = g.fmt.day
    as_of = g.as_of
    campaigns = g.rows["campaign_members"]
    if r() < 0.2:
        campaigns.append(
            (
                1,
                mid,
                day(as_of - timedelta(days=300 - int(r() * 90))),
                day(as_of + timedelta(days=-200)),
            )
        )
    if lapsed and r() < 0.4:
        campaigns.append((2, mid, day(as_of - timedelta(days=int(r() * 150))), None))
    if birth[1] is not None and r() < 0.3:
        campaigns.append((3, mid, day(as_of - timedelta(days=int(r() * 365))), None))
    if has_app and r() < 0.6:
        campaigns.append(
            (
                4,
                mid,
                day(as_of - timedelta(days=int(r() * 120))),
                day(as_of + timedelta(days=60)),
            )
        )
    promotions = g.rows["promotion_members"]
    if r() < 0.12:
        promotions.append((1, mid, day(g.day(max(enrolled, g.now - YEAR))), None))
    if r() < 0.05:
        promotions.append(
            (
                4,
                mid,
                day(as_of - timedelta(days=int(r() * 90))),
                day(as_of + timedelta(days=90)),
            )
        )


def profile_extras(g: ChunkGenerator, mid: int, enrolled: float, home: int) -> None:
    r = g.rng.random
    ts, day = g.fmt.ts, g.fmt.day
    now = g.now
    if r() < 0.08:
        for k in range(1 + int(r() * r() * 3)):
            added = ts(g.between(enrolled, now))
            born = date(2005 + int(r() * 19), 1 + int(r() * 12), 1 + int(r() * 28))
            gender = "Female" if r() < 0.5 else "Male"
            first = g.pick(names.FEMALE_FIRST if gender == "Female" else names.MALE_FIRST)
            g.rows["member_children"].append(
                (mid * CHILDREN + k, mid, first, None, day(born), gender, added, added, None)
            )
    if r() < 0.18:
        clubs = [1 + int(r() * 4)]
        if r() < 0.15:
            clubs.append(1 + clubs[0] % 4)
        for k, club in enumerate(clubs):
            g.rows["club_memberships"].append(
                (mid * CLUB_ROWS + k, club, mid, ts(g.between(enrolled, now)), None)
            )
    values = g.rows["member_custom_values"]
    if r() < 0.2:
        values.append((mid, 1, f"LOC{home:04d}", ts(enrolled)))
    if r() < 0.25:
        values.append((mid, 2, "true" if r() < 0.6 else "false", ts(enrolled)))
    if r() < 0.05:
        values.append(
            (
                mid,
                3,
                date(1990 + int(r() * 30), 1 + int(r() * 12), 1 + int(r() * 28)).isoformat(),
                ts(enrolled),
            )
        )
