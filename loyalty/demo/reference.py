"""The demo program's reference data: the fixed tables of ``fixed_reference`` plus the part
drawn from the seed and sized by member count (locations, products, their custom values).

``build`` returns the rows to insert and a ``Reference``: the small, picklable summary the
per-member generator draws from (ids, prices, flags, time zones).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from loyalty.demo import fixed_reference, names
from loyalty.demo.bulk import Formats
from loyalty.demo.fixed_reference import QUESTIONS, Rows, Table


@dataclass
class Location:
    id: int
    timezone: str
    city: int  # index into names.CITIES
    online: bool


@dataclass
class Product:
    id: int
    price: float
    zero_points: bool
    zero_retail: bool
    drop: bool


@dataclass
class Reference:
    as_of: date
    locations: list[Location] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    web_location: int = 0
    # (choice id, text) of each question's choices, per question id.
    choices: dict[int, list[tuple[int, str]]] = field(default_factory=dict)


def _postal(rng: random.Random, pattern: str) -> str:
    out = []
    for part in pattern.replace("{d}", "\0d").replace("{A}", "\0A").split("\0"):
        if part.startswith("d"):
            out.append(str(rng.randrange(10)) + part[1:])
        elif part.startswith("A"):
            out.append(chr(65 + rng.randrange(26)) + part[1:])
        else:
            out.append(part)
    return "".join(out)


def build(
    members: int, rng: random.Random, fmt: Formats, as_of: date, now: float
) -> tuple[Rows, Reference]:
    """The reference rows for a program of ``members`` members (``now``: epoch seconds of
    the end of the seeded history)."""
    created = fmt.ts(now - 6 * 365 * 86400)
    ref = Reference(as_of=as_of)
    rows = fixed_reference.rows(fmt, as_of, created)
    # Locations draw first, then products: the order of the draws is the seed's data.
    rows["locations"] = _locations(members, rng, ref, created)
    rows["products"] = _products(members, rng, ref, created)
    rows.update(_custom_values(ref, created))
    ref.choices = {question[0]: [] for question in QUESTIONS}
    for choice_id, question_id, label, _correct, _position in fixed_reference.question_choices():
        ref.choices[question_id].append((choice_id, label))
    return rows, ref


def _locations(members: int, rng: random.Random, ref: Reference, created: str) -> Table:
    """One store per 2,500 members (10 to 400), the last one the web shop."""
    count = max(10, min(400, members // 2500))
    locations = []
    for number in range(1, count + 1):
        online = number == count
        city_index = rng.randrange(len(names.CITIES))
        city, region, region_name, country, country_name, zone, postal, phone = names.CITIES[
            city_index
        ]
        if online:
            zone = "UTC"
        ext_ref = "WEB" if online else f"LOC{number:04d}"
        name = (
            "Web shop" if online else f"{city} {names.STREETS[rng.randrange(len(names.STREETS))]}"
        )
        locations.append(
            (
                number,
                name[:120],
                ext_ref,
                rng.random() < 0.05 and not online,
                rng.random() > 0.1,
                3 if online else (1 if city_index % 2 == 0 else 2),
                None if online else 1 + rng.randrange(4),
                country_name,
                country,
                f"{rng.randint(1, 999)} {names.STREETS[rng.randrange(len(names.STREETS))]}",
                "Unit 2" if rng.random() < 0.2 else None,
                None,
                city,
                region_name,
                region,
                _postal(rng, postal),
                f"{phone} 555-{rng.randrange(10000):04d}",
                f"store{number}@example.com",
                zone,
                created,
                created,
            )
        )
        ref.locations.append(Location(number, zone, city_index, online))
    ref.web_location = count
    return (
        (
            "id",
            "name",
            "ext_ref",
            "inactive",
            "valid_for_feedback",
            "business_unit_id",
            "pos_category_id",
            "country_name",
            "country_abbr",
            "address1",
            "address2",
            "address3",
            "city",
            "region_name",
            "region_abbr",
            "postal_code",
            "phone",
            "email",
            "timezone",
            "created_at",
            "updated_at",
        ),
        locations,
    )


def _products(members: int, rng: random.Random, ref: Reference, created: str) -> Table:
    """One product per 50 members (200 to 20,000); a few never earn points, have no retail
    value or are dropped from the basket."""
    count = max(200, min(20000, members // 50))
    products = []
    sku = 1
    for number in range(1, count + 1):
        sku += 1 + rng.randrange(40)
        base = names.PRODUCT_WORDS[rng.randrange(len(names.PRODUCT_WORDS))]
        size = names.PRODUCT_SIZES[rng.randrange(len(names.PRODUCT_SIZES))]
        price = round(
            rng.choice((0.99, 1.99, 2.49, 4.99, 9.99, 14.99, 24.99, 49.99, 99.0))
            * (1 + rng.randrange(3)),
            2,
        )
        flags = (rng.random() < 0.03, rng.random() < 0.02, rng.random() < 0.01)
        products.append(
            (
                number,
                f"{base}{size} #{number}"[:120],
                f"{sku:010d}",
                f"ALT{number:06d}" if rng.random() < 0.3 else None,
                names.CATEGORIES[rng.randrange(len(names.CATEGORIES))],
                price,
                *flags,
                created,
                created,
            )
        )
        ref.products.append(Product(number, price, *flags))
    return (
        (
            "id",
            "name",
            "sku",
            "alt_ref",
            "category",
            "unit_price",
            "zero_points",
            "zero_retail",
            "drop_from_basket",
            "created_at",
            "updated_at",
        ),
        products,
    )


def _custom_values(ref: Reference, created: str) -> Rows:
    """Custom field values of the stores (region manager, floor area) and products (brand,
    organic), derived from their ids."""
    rows: Rows = {}
    rows["location_custom_values"] = (
        ("location_id", "field_id", "value", "updated_at"),
        [
            row
            for loc in ref.locations
            for row in (
                (loc.id, 6, names.CSR_USERS[loc.id % len(names.CSR_USERS)], created),
                (loc.id, 7, str(1500 + 250 * (loc.id % 20)), created),
            )
            if not loc.online
        ],
    )
    rows["product_custom_values"] = (
        ("product_id", "field_id", "value", "updated_at"),
        [
            row
            for p in ref.products
            for row in (
                ((p.id, 8, ("Acme", "Nordic", "Casa", "Zeta|Brand")[p.id % 4], created),)
                + (((p.id, 9, "true" if p.id % 3 else "false", created),) if p.id % 5 == 0 else ())
            )
        ],
    )
    return rows
