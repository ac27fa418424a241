"""A seeded member's ways to be reached and identified: account ids (and the primary one),
emails, phones and addresses.

Called by ``people`` in a fixed order (the mobile number is drawn between the card ids and
the phone-number id that derives from it); changing the order of the draws here changes
every member after the first.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from loyalty.demo import names
from loyalty.demo.schema import ACCOUNT_IDS, ADDRESSES, EMAILS, PHONES, YEAR

if TYPE_CHECKING:
    from loyalty.demo.people import ChunkGenerator, Person

# An account id before it is written: (row id, type id, value, status, added at).
AccountIdDraft = tuple[int, int, str, str, float]


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in plain if ch.isalnum())


_ASCII = {
    n: _ascii(n) for n in (*names.FEMALE_FIRST, *names.MALE_FIRST, *names.LAST, *names.PIPE_NAMES)
}


def account_ids(g: ChunkGenerator, p: Person) -> None:
    """A legacy card now and then, the loyalty card (a lost one replaced), an app id."""
    r = g.rng.random
    mid, enrolled, now = p.mid, p.enrolled, g.now
    ids = p.ids
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
                    g.between(enrolled, now),
                )
            )
            k += 1
    if r() < 0.3:
        ids.append((mid * ACCOUNT_IDS + k, 2, f"APP{mid:09d}", "active", g.between(enrolled, now)))


def mobile_number(g: ChunkGenerator, p: Person) -> str | None:
    r = g.rng.random
    return f"{p.city[7]} 555-{int(r() * 10000):04d}" if r() < 0.72 else None


def phone_number_id(g: ChunkGenerator, p: Person) -> None:
    """Now and then the mobile number is also an account id (when a slot is left)."""
    r = g.rng.random
    k = len(p.ids)
    if p.mobile and k < ACCOUNT_IDS and r() < 0.08:
        digits = "".join(ch for ch in p.mobile if ch.isdigit())
        p.ids.append(
            (
                p.mid * ACCOUNT_IDS + k,
                3,
                f"{digits}-{p.mid}",
                "active",
                g.between(p.enrolled, g.now),
            )
        )


def account_id_rows(g: ChunkGenerator, p: Person) -> None:
    """Write the account ids (an inactive one's status changed some time after it was
    added) and note the primary one."""
    ts = g.fmt.ts
    p.primary_id = _primary(p.ids)
    for row_id, type_id, value, id_status, added in p.ids:
        g.rows["account_ids"].append(
            (
                row_id,
                p.mid,
                type_id,
                value,
                id_status,
                ts(added),
                None if id_status == "active" else ts(g.between(added, g.now)),
            )
        )


def emails(g: ChunkGenerator, p: Person) -> None:
    """Most members have an email (from their name), a few an older one as well."""
    r = g.rng.random
    ts = g.fmt.ts
    mid, enrolled = p.mid, p.enrolled
    rows = g.rows["member_emails"]
    if r() < 0.88:
        local = f"{_ASCII[p.first] or 'member'}.{_ASCII[p.last] or 'x'}{mid}"
        p.email = f"{local}@{g.pick(names.EMAIL_DOMAINS)}"
        if r() < 0.1:
            rows.append(
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
        rows.append((mid * EMAILS, mid, p.email, True, added, added))


def phones(g: ChunkGenerator, p: Person) -> None:
    """The mobile number (drawn with the account ids) and sometimes a home phone."""
    r = g.rng.random
    ts = g.fmt.ts
    mid, enrolled = p.mid, p.enrolled
    rows = g.rows["member_phones"]
    if p.mobile:
        rows.append((mid * PHONES, mid, "mobile", p.mobile, ts(enrolled), ts(enrolled)))
    if r() < 0.28:
        rows.append(
            (
                mid * PHONES + 1,
                mid,
                "home",
                f"{p.city[7]} 555-{int(r() * 10000):04d}",
                ts(enrolled),
                ts(enrolled),
            )
        )


def addresses(g: ChunkGenerator, p: Person) -> None:
    """A home address in the home store's city for most, a work address for a few (the
    primary one when there is no home address)."""
    r = g.rng.random
    ts = g.fmt.ts
    mid, enrolled, city = p.mid, p.enrolled, p.city
    rows = g.rows["member_addresses"]
    p.has_home = r() < 0.92
    if p.has_home:
        rows.append(
            (
                mid * ADDRESSES,
                mid,
                "home",
                f"{1 + int(r() * 2999)} {g.pick(names.STREETS)}",
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
        rows.append(
            (
                mid * ADDRESSES + 1,
                mid,
                "work",
                f"{1 + int(r() * 500)} {g.pick(names.STREETS)}",
                "Floor 3",
                None,
                city[0],
                city[1],
                _postal(r, city[6]),
                city[3],
                not p.has_home,
                ts(enrolled),
                ts(enrolled),
            )
        )


def _primary(ids: list[AccountIdDraft]) -> str | None:
    """The primary account id rule in Python (the seed's twin of ``loyalty.primary``)."""
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
