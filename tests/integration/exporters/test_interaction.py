"""interaction: the spec's header and rows byte for byte, increments, splitting, goldens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty.models import (
    BusinessUnit,
    ChangeKind,
    InteractionEvent,
    InteractionType,
    Member,
)
from loyalty.services import catalog, contacts, engagement, members
from tests.fixtures.exports import give_account_id, member_with_id
from tests.integration.exporters.events_support import (
    check_golden,
    export_around_write,
    renumber,
)
from webapp.extensions import db

HEADER = (
    "InteractionId|MemberId|MemberAccountId|LocationId|LocationExternalRef|InteractionTypeId|"
    "InteractionTypeName|InteractionTimestamp|InteractionTypeExternalRef|EventName|IssueAuditUser"
)
EXAMPLE = [
    "1077|1038|1000B|-1||17|Birthdate Added|2017-03-28 17:52:16.820|BIRTHDATE_ADDED||Anna",
    "1078|1038|1000B|-1||11|Address Added|2017-03-28 17:52:16.993|ADDR_ADD||Anna",
    "1079|1038|1000B|-1||9|Email Added|2017-03-28 17:52:16.993|EMAIL_ADD||Anna",
]
STARTED = datetime(2017, 3, 29, 6, 0, tzinfo=UTC)
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def spec_data() -> None:
    s = db.session()
    anna = member_with_id(1038, first_name="Anna")
    give_account_id(anna, "1000B")
    # The example names its type ids, so the types are inserted with them.
    types = {
        17: InteractionType(id=17, ext_ref="BIRTHDATE_ADDED", name="Birthdate Added"),
        11: InteractionType(id=11, ext_ref="ADDR_ADD", name="Address Added"),
        9: InteractionType(id=9, ext_ref="EMAIL_ADD", name="Email Added"),
    }
    s.add_all(types.values())
    s.flush()
    for interaction_id, type_id, millis in ((1077, 17, 820), (1078, 11, 993), (1079, 9, 993)):
        at = datetime(2017, 3, 28, 17, 52, 16, millis * 1000, tzinfo=UTC)
        done = engagement.record_interaction(s, anna, types[type_id], audit_user="Anna", at=at)
        renumber(done, interaction_id, ChangeKind.INTERACTION)
    db.session.commit()


def test_spec_example_rows_byte_for_byte(run_export: Any) -> None:
    spec_data()
    exported = run_export("interaction", started=STARTED)
    assert exported.names == ["InteractionSync_20170329060000.txt"]
    assert exported.bytes() == ("\r\n".join([HEADER, *EXAMPLE]) + "\r\n").encode()


class Program:
    """Reference data and two members, built through the services."""

    def __init__(self) -> None:
        s = db.session()
        bu = catalog.create(s, BusinessUnit, ext_ref="BU1", name="Retail")
        self.store = catalog.create_location(
            s, name="Main Street", ext_ref="LOC001", business_unit_id=bu.id
        )
        self.email_added = catalog.create(
            s, InteractionType, ext_ref="EMAIL_ADD", name="Email Added"
        )
        self.visit = catalog.create(s, InteractionType, ext_ref="VISIT", name="Store | visit")
        self.show = catalog.create(s, InteractionEvent, ext_ref="SHOW26", name="Trade show 2026")
        self.card = catalog.create(
            s, contacts.AccountIdType, ext_ref="CARD", name="Card", display_rank=1
        )
        self.anna = members.enrol_member(s, first_name="Anna", at=T0)
        contacts.add_account_id(s, self.anna, self.card, "1000A", at=T0)
        self.zoe = members.enrol_member(s, first_name="Zoë", at=T0)
        db.session.commit()

    def interact(self, member: Member, minutes: int, **kw: Any) -> int:
        kw.setdefault("audit_user", "web")
        done = engagement.record_interaction(
            db.session(),
            member,
            kw.pop("kind", self.email_added),
            at=T0 + timedelta(minutes=minutes),
            **kw,
        )
        db.session.commit()
        return done.id


def row_ids(lines: list[str]) -> list[str]:
    return [line.split("|")[0] for line in lines[1:]]


def test_location_event_and_values_that_would_shift_columns(run_export: Any) -> None:
    p = Program()
    p.interact(p.anna, 1, kind=p.visit, location=p.store, event=p.show, audit_user="Émile | CSR")
    p.interact(p.zoe, 2)
    exported = run_export("interaction")
    assert exported.lines()[1:] == [
        f"1|{p.anna.id}|1000A|{p.store.id}|LOC001|{p.visit.id}|Store ¦ visit|"
        "2026-05-04 10:01:00.000|VISIT|Trade show 2026|Émile ¦ CSR",
        f"2|{p.zoe.id}||-1||{p.email_added.id}|Email Added|2026-05-04 10:02:00.000|EMAIL_ADD||web",
    ]
    assert all(line.count("|") == 10 for line in exported.lines())


def test_rows_are_in_the_order_the_interactions_happened(run_export: Any) -> None:
    p = Program()
    late = p.interact(p.anna, 30)
    early = p.interact(p.anna, 5)  # backdated: recorded later, happened earlier
    same_a = p.interact(p.zoe, 10)
    same_b = p.interact(p.anna, 10)
    assert row_ids(run_export("interaction").lines()) == [
        str(i) for i in (early, same_a, same_b, late)
    ]


def test_increments_lose_nothing_and_repeat_nothing(run_export: Any) -> None:
    p = Program()
    first_ids = [p.interact(p.anna, 1), p.interact(p.zoe, 2)]
    first = run_export("interaction")
    assert row_ids(first.lines()) == [str(i) for i in first_ids]  # first run: the whole log
    assert first.result.watermark is not None
    second_ids = [p.interact(p.zoe, 3)]
    second = run_export("interaction", watermark=first.result.watermark)
    assert row_ids(second.lines()) == [str(i) for i in second_ids]
    third = run_export("interaction", watermark=second.result.watermark)
    assert third.lines() == [HEADER]  # nothing new: the header only, still a file
    # Other kinds of change do not reach this sync.
    members.update_member(db.session(), p.anna, last_name="Smith", at=T0)
    db.session.commit()
    assert run_export("interaction", watermark=third.result.watermark).lines() == [HEADER]


def test_a_change_committed_during_the_export_comes_in_the_next_one(
    app: Any, tmp_path: Path, run_export: Any
) -> None:
    p = Program()
    before = p.interact(p.anna, 1)
    during: list[int] = []
    exported = export_around_write(
        app, tmp_path / "during", "interaction", lambda: during.append(p.interact(p.zoe, 2))
    )
    assert row_ids(exported.lines()) == [str(before)]
    following = run_export("interaction", watermark=exported.result.watermark)
    assert row_ids(following.lines()) == [str(during[0])]


@pytest.mark.parametrize(("maximum", "sizes"), [(3, [3]), (2, [2, 1])])
def test_max_records_per_file(run_export: Any, maximum: int, sizes: list[int]) -> None:
    p = Program()
    for minute in range(3):
        p.interact(p.anna, minute)
    exported = run_export("interaction", options={"max_records": maximum})
    assert exported.names == [
        f"InteractionSync_20261123140509_{n}.txt" for n in range(1, len(sizes) + 1)
    ]
    assert [len(exported.lines(i)) - 1 for i in range(len(sizes))] == sizes
    assert all(exported.lines(i)[0] == HEADER for i in range(len(sizes)))


def golden_data() -> dict[str, Any]:
    p = Program()
    p.interact(p.anna, 1, kind=p.visit, location=p.store, event=p.show, audit_user="Anna")
    p.interact(p.zoe, 2, audit_user="import\nbatch")
    p.interact(p.anna, 3)
    p.interact(p.zoe, 3, kind=p.visit, location=p.store)
    return {"program": p}


def test_golden_default(run_export: Any) -> None:
    golden_data()
    exported = run_export("interaction")
    assert exported.names == ["InteractionSync_20261123140509.txt"]
    check_golden(exported.bytes(), "interaction", "default")


def test_golden_max_records_per_file(run_export: Any) -> None:
    golden_data()
    exported = run_export("interaction", options={"max_records": 3})
    assert exported.names == [
        "InteractionSync_20261123140509_1.txt",
        "InteractionSync_20261123140509_2.txt",
    ]
    check_golden(exported.bytes(0), "interaction", "max_records_3_file_1")
    check_golden(exported.bytes(1), "interaction", "max_records_3_file_2")
