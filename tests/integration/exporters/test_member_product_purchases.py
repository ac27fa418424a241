"""member_product_purchases: the spec's header and example rows, the hybrid selection
(changed members, whole history), ranks with ties, cancellations and returns, names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from loyalty.models import AccountId, Member, Product, Transaction, TransactionType
from loyalty.models.enums import AccountIdStatus
from loyalty.services import catalog, contacts, members, transactions
from loyalty.services.transactions import LineInput
from tests.integration.exporters.members_b_support import (
    at,
    check_golden,
    enrol,
    export_around_write,
)
from webapp.extensions import db

KEY = "member_product_purchases"
HEADER = (
    "Account Id|Product Item Rank|Product Item External Reference|Product Item Name|Qty Purchased"
)
EXAMPLE = [
    "324443|1|0000000002|BASEBALL BAT 36/34|2",
    "324443|2|0000000003|CATCHERS MITT|1",
    "348839|1|0000010040|GAUZE 36IN|3",
]
STARTED = datetime(2016, 12, 30, 8, 0, tzinfo=UTC)


def purchase_type() -> TransactionType:
    return catalog.create(db.session(), TransactionType, ext_ref="PURCHASE", name="Purchase")


def product(sku: str, name: str) -> Product:
    return catalog.create_product(db.session(), sku=sku, name=name)


def buy(
    member: Member,
    kind: TransactionType,
    lines: list[tuple[Product, int]],
    when: datetime,
) -> Transaction:
    return transactions.post_transaction(
        db.session(),
        member,
        kind,
        occurred_at=when,
        lines=[LineInput(p, quantity, "1.00") for p, quantity in lines],
        at=when,
    )


def spec_data() -> tuple[Member, Member, TransactionType, dict[str, Product]]:
    kind = purchase_type()
    items = {
        "bat": product("0000000002", "BASEBALL BAT 36/34"),
        "mitt": product("0000000003", "CATCHERS MITT"),
        "gauze": product("0000010040", "GAUZE 36IN"),
    }
    first = enrol("324443", when=datetime(2016, 1, 4, tzinfo=UTC))
    second = enrol("348839", when=datetime(2016, 1, 4, tzinfo=UTC))
    when = datetime(2016, 12, 29, 15, 0, tzinfo=UTC)
    buy(first, kind, [(items["bat"], 1), (items["mitt"], 1)], when)
    buy(first, kind, [(items["bat"], 1)], when)
    buy(second, kind, [(items["gauze"], 3)], when)
    db.session.commit()
    return first, second, kind, items


def test_spec_header_and_example_rows_byte_for_byte(run_export: Any) -> None:
    spec_data()
    exported = run_export(KEY, started=STARTED)
    assert exported.names == ["SB_MemberProductPurchaseRank_20161230.txt"]
    assert exported.bytes() == ("\r\n".join([HEADER, *EXAMPLE]) + "\r\n").encode()
    assert exported.result.watermark is not None


def test_incremental_sequence_sends_changed_members_with_their_whole_history(
    run_export: Any,
) -> None:
    _first, second, kind, items = spec_data()
    one = run_export(KEY, started=STARTED)
    later = datetime(2016, 12, 30, 11, 0, tzinfo=UTC)
    buy(second, kind, [(items["gauze"], 1), (items["mitt"], 4)], later)
    db.session.commit()
    two = run_export(KEY, started=later, watermark=one.result.watermark, taken=set(one.names))
    # Same day: the time is added so the morning's file is not replaced.
    assert two.names == ["SB_MemberProductPurchaseRank_20161230110000.txt"]
    assert two.lines() == [
        HEADER,
        "348839|1|0000000003|CATCHERS MITT|4",
        "348839|1|0000010040|GAUZE 36IN|4",
    ]
    three = run_export(KEY, watermark=two.result.watermark)
    assert three.names == ["SB_MemberProductPurchaseRank_20261123.txt"]
    assert three.lines() == [HEADER]


def test_ties_share_a_rank_and_the_next_rank_skips(run_export: Any) -> None:
    kind = purchase_type()
    # Product ids in one order, SKUs in another: ties are written in SKU order.
    p_c, p_a, p_d, p_b, p_e = (product(sku, f"Item {sku}") for sku in "CADBE")
    member = enrol("T1")
    buy(member, kind, [(p_c, 5), (p_a, 5), (p_d, 2), (p_b, 2), (p_e, 1)], at())
    db.session.commit()
    assert run_export(KEY).lines()[1:] == [
        "T1|1|A|Item A|5",
        "T1|1|C|Item C|5",
        "T1|3|B|Item B|2",
        "T1|3|D|Item D|2",
        "T1|5|E|Item E|1",
    ]


def test_cancellations_and_returns_take_quantities_back(run_export: Any) -> None:
    kind = purchase_type()
    keep, back, gone = product("K", "Kept"), product("R", "Returned"), product("X", "Cancelled")
    member = enrol("C1")
    buy(member, kind, [(keep, 3), (back, 2)], at())
    cancelled = buy(member, kind, [(gone, 7), (keep, 1)], at(1))
    first = run_export(KEY)
    assert first.lines()[1:] == ["C1|1|X|Cancelled|7", "C1|2|K|Kept|4", "C1|3|R|Returned|2"]
    transactions.cancel_transaction(db.session(), cancelled, at=at(2))
    buy(member, kind, [(back, -2)], at(3))  # a return nets the product to zero
    db.session.commit()
    assert run_export(KEY).lines()[1:] == ["C1|1|K|Kept|3"]


def test_cancellations_bring_members_in_only_with_the_option(run_export: Any) -> None:
    first, _second, _kind, _items = spec_data()
    one = run_export(KEY, started=STARTED)
    cancelled = db.session.query(Transaction).filter_by(member_id=first.id).first()
    assert cancelled is not None
    transactions.cancel_transaction(db.session(), cancelled, at=at())
    db.session.commit()
    assert run_export(KEY, watermark=one.result.watermark).lines() == [HEADER]
    with_option = run_export(
        KEY, watermark=one.result.watermark, options={"include_cancellations": True}
    )
    assert with_option.lines() == [HEADER, "324443|1|0000000002|BASEBALL BAT 36/34|1"]


def test_deleted_members_and_members_without_purchases_are_left_out(run_export: Any) -> None:
    kind = purchase_type()
    item = product("P1", "Thing")
    enrol("N1")  # never bought anything
    kept = enrol("K1")
    buy(kept, kind, [(item, 3)], at())
    gone = enrol("G1")
    buy(gone, kind, [(item, 1)], at())
    members.delete_member(db.session(), gone, at=at(1))
    db.session.commit()
    assert run_export(KEY).lines() == [HEADER, "K1|1|P1|Thing|3"]


def test_members_without_an_account_id_are_left_out(run_export: Any) -> None:
    """Account Id is the layout's only member key: a row without one cannot be
    attributed, and its ranks would run together with the neighbouring member's."""
    kind = purchase_type()
    item, other = product("P1", "Thing"), product("P2", "Other")
    before = enrol("A1")
    buy(before, kind, [(item, 1)], at())
    nameless = enrol(None)  # never had an account id
    buy(nameless, kind, [(item, 2), (other, 1)], at())
    lapsed = enrol("L1")  # had one; deactivated, so no primary account id any more
    buy(lapsed, kind, [(item, 4)], at())
    account = db.session.query(AccountId).filter_by(member_id=lapsed.id).one()
    contacts.set_account_id_status(db.session(), account, AccountIdStatus.INACTIVE, at=at())
    after = enrol("Z1")
    buy(after, kind, [(other, 5)], at())
    db.session.commit()
    assert lapsed.primary_account_id is None
    first = run_export(KEY)
    assert first.lines() == [HEADER, "A1|1|P1|Thing|1", "Z1|1|P2|Other|5"]
    # Incremental too: a nameless member's new purchase writes nothing.
    buy(nameless, kind, [(other, 3)], at(1))
    db.session.commit()
    assert run_export(KEY, watermark=first.result.watermark).lines() == [HEADER]


def test_values_never_shift_columns(run_export: Any) -> None:
    kind = purchase_type()
    item = product("00-7", "GAUZE|36IN Ærø")
    member = enrol("V1")
    buy(member, kind, [(item, 1)], at())
    db.session.commit()
    item.name = "GAUZE|36IN\r\nÆrø"  # older data may hold line breaks the services refuse
    db.session.commit()
    assert run_export(KEY).lines()[1:] == ["V1|1|00-7|GAUZE¦36IN  Ærø|1"]


def golden_data() -> tuple[list[Member], TransactionType, list[Product], Transaction]:
    kind = purchase_type()
    items = [
        product("0000000002", "BASEBALL BAT 36/34"),
        product("0000000003", "CATCHERS MITT"),
        product("0000010040", "GAUZE 36IN"),
        product("0000020001", "Café crème"),
    ]
    people = [enrol(f"10000{n}", when=at()) for n in range(1, 5)]
    buy(people[0], kind, [(items[0], 2), (items[1], 1)], at(1))
    buy(people[1], kind, [(items[2], 3), (items[3], 3), (items[0], 1)], at(1))
    buy(people[2], kind, [(items[3], 1)], at(2))
    tx = buy(people[3], kind, [(items[1], 5)], at(2))
    buy(people[3], kind, [(items[0], 1)], at(2, minutes=5))
    db.session.commit()
    return people, kind, items, tx


def test_goldens(run_export: Any) -> None:
    people, kind, items, to_cancel = golden_data()
    first = run_export(KEY)
    check_golden(first.bytes(), KEY, "first_run")
    buy(people[1], kind, [(items[1], 2)], at(3))
    transactions.cancel_transaction(db.session(), to_cancel, at=at(3))
    db.session.commit()
    since = first.result.watermark
    check_golden(run_export(KEY, watermark=since).bytes(), KEY, "incremental")
    check_golden(
        run_export(KEY, watermark=since, options={"include_cancellations": True}).bytes(),
        KEY,
        "incremental_with_cancellations",
    )


def test_change_committed_during_an_export_comes_in_the_next(
    app: Flask, run_export: Any, tmp_path: Path
) -> None:
    _first, _second, kind, items = spec_data()
    one = run_export(KEY, started=STARTED)
    late = enrol("555")
    db.session.commit()

    def write() -> None:
        buy(late, kind, [(items["mitt"], 2)], at())
        db.session.commit()

    two = export_around_write(app, tmp_path / "around", KEY, write, watermark=one.result.watermark)
    assert two.lines() == [HEADER]  # committed after the snapshot: not in this file
    three = run_export(KEY, watermark=two.result.watermark)
    assert three.lines() == [HEADER, "555|1|0000000003|CATCHERS MITT|2"]
    assert run_export(KEY, watermark=three.result.watermark).lines() == [HEADER]


@pytest.mark.parametrize("products", [1, 3])
def test_first_run_is_every_member_with_purchases(run_export: Any, products: int) -> None:
    kind = purchase_type()
    items = [product(f"S{n}", f"Item {n}") for n in range(products)]
    for n in range(3):
        buy(enrol(f"M{n}"), kind, [(item, n + 1) for item in items], at())
    db.session.commit()
    lines = run_export(KEY).lines()
    assert len(lines) == 1 + 3 * products
    assert [line.split("|")[0] for line in lines[1:]] == [
        f"M{n}" for n in range(3) for _ in range(products)
    ]
