"""case_event: an event stream of case changes, in the order they happened, with action codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loyalty.models import AccountIdType, Case, CaseCategory, CaseQueue, Descriptor
from loyalty.services import cases, catalog, contacts, members
from tests.integration.exporters.events_support import check_golden, export_around_write
from webapp.extensions import db

HEADER = (
    "CaseId|Timestamp|User|ActionCode|CaseEventId|MemberId|MemberAccountId|CaseSubject|"
    "CategoryExtRef|CategoryName|QueueExtRef|QueueName|DescriptorExtRef|DescriptorName|Note"
)
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Program:
    def __init__(self) -> None:
        s = db.session()
        self.billing = catalog.create(s, CaseCategory, ext_ref="BILL", name="Billing")
        self.tech = catalog.create(s, CaseCategory, ext_ref="TECH", name="Technical")
        self.front = catalog.create(s, CaseQueue, ext_ref="Q1", name="Front line")
        self.escalations = catalog.create(s, CaseQueue, ext_ref="Q2", name="Escalations")
        self.vip = catalog.create(s, Descriptor, ext_ref="VIP", name="VIP member")
        card = catalog.create(s, AccountIdType, ext_ref="CARD", name="Card", display_rank=1)
        self.anna = members.enrol_member(s, first_name="Anna", at=T0)
        contacts.add_account_id(s, self.anna, card, "1000A", at=T0)
        db.session.commit()

    def open(self, minutes: float, **kw: Any) -> Case:
        kw.setdefault("user", "maria")
        kw.setdefault("member", self.anna)
        case = cases.open_case(
            db.session(), kw.pop("subject", "Missing points"), at=at(minutes), **kw
        )
        db.session.commit()
        return case


def fields(line: str) -> list[str]:
    return line.split("|")


def test_every_event_of_a_case_in_order_with_what_it_did(run_export: Any) -> None:
    p = Program()
    s = db.session()
    case = p.open(0, category=p.billing, queue=p.front, note="Member called")
    cases.touch_case(s, case, user="jo", note="Called back", at=at(1))
    cases.change_case_category(s, case, p.tech, at=at(2))
    cases.change_case_queue(s, case, p.escalations, at=at(3))
    cases.add_case_descriptor(s, case, p.vip, at=at(4))
    cases.remove_case_descriptor(s, case, p.vip, at=at(5))
    cases.close_case(s, case, user="jo", note="Resolved", at=at(6))
    cases.reopen_case(s, case, user="Zoë", note="Member called back", at=at(7))
    db.session.commit()
    exported = run_export("case_event")
    assert exported.names == ["CaseUpdatesSync_20261123.txt"]
    a = p.anna.id
    assert exported.lines() == [
        HEADER,
        f"1|2026-05-04 10:00:00.000|maria|OPEN|1|{a}|1000A|Missing points|BILL|Billing|Q1|Front line|||Member called",
        f"1|2026-05-04 10:01:00.000|jo|TOCH|2|{a}|1000A|Missing points|||||||Called back",
        f"1|2026-05-04 10:02:00.000|jo|CCAT|3|{a}|1000A|Missing points|TECH|Technical|||||",
        f"1|2026-05-04 10:03:00.000|jo|CQUE|4|{a}|1000A|Missing points|||Q2|Escalations|||",
        f"1|2026-05-04 10:04:00.000|jo|ADDD|5|{a}|1000A|Missing points|||||VIP|VIP member|",
        f"1|2026-05-04 10:05:00.000|jo|RMVD|6|{a}|1000A|Missing points|||||VIP|VIP member|",
        f"1|2026-05-04 10:06:00.000|jo|CLSD|7|{a}|1000A|Missing points|||||||Resolved",
        f"1|2026-05-04 10:07:00.000|Zoë|REOP|8|{a}|1000A|Missing points|||||||Member called back",
    ]


def test_events_of_several_cases_interleave_by_time_then_log_order(run_export: Any) -> None:
    p = Program()
    s = db.session()
    first = p.open(0)
    second = p.open(1, member=None, subject="Web form")
    cases.touch_case(s, first, user="jo", at=at(2))
    cases.touch_case(s, second, user="jo", at=at(2))  # the same instant, recorded later
    cases.close_case(s, first, user="jo", at=at(1.5))  # recorded last, happened earlier
    db.session.commit()
    rows = [fields(line) for line in run_export("case_event").lines()[1:]]
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (str(first.id), "OPEN", "1"),
        (str(second.id), "OPEN", "2"),
        (str(first.id), "CLSD", "5"),
        (str(first.id), "TOCH", "3"),
        (str(second.id), "TOCH", "4"),
    ]


def test_timestamps_are_utc_with_truncated_milliseconds(run_export: Any) -> None:
    p = Program()
    p.open(0.0166665)  # 10:00:00.999990
    assert fields(run_export("case_event").lines()[1])[1] == "2026-05-04 10:00:00.999"


def test_a_case_without_member_and_values_that_would_shift_columns(run_export: Any) -> None:
    p = Program()
    case = p.open(
        0, member=None, subject="Refund | chargeback", user="Zoë Ærø", note="Line 1\r\nLine 2"
    )
    db.session.commit()
    line = run_export("case_event").lines()[1]
    assert line == (
        f"{case.id}|2026-05-04 10:00:00.000|Zoë Ærø|OPEN|1|||Refund ¦ chargeback|||||||"
        "Line 1  Line 2"
    )
    assert line.count("|") == 14


def test_increments_lose_nothing_and_repeat_nothing(run_export: Any) -> None:
    p = Program()
    case = p.open(0)
    first = run_export("case_event")
    assert [fields(x)[3] for x in first.lines()[1:]] == ["OPEN"]  # first run: the whole log
    cases.touch_case(db.session(), case, user="jo", at=at(1))
    cases.close_case(db.session(), case, user="jo", at=at(2))
    db.session.commit()
    second = run_export("case_event", watermark=first.result.watermark)
    assert [fields(x)[3] for x in second.lines()[1:]] == ["TOCH", "CLSD"]
    members.update_member(db.session(), p.anna, last_name="Smith", at=T0)  # not a case event
    db.session.commit()
    third = run_export("case_event", watermark=second.result.watermark)
    assert third.lines() == [HEADER]  # nothing new: the header only, still a daily file


def test_a_change_committed_during_the_export_comes_in_the_next_one(
    app: Any, tmp_path: Path, run_export: Any
) -> None:
    p = Program()
    case = p.open(0)

    def close() -> None:
        cases.close_case(db.session(), case, user="jo", at=at(1))
        db.session.commit()

    exported = export_around_write(app, tmp_path / "during", "case_event", close)
    assert [fields(x)[3] for x in exported.lines()[1:]] == ["OPEN"]
    following = run_export("case_event", watermark=exported.result.watermark)
    assert [fields(x)[3] for x in following.lines()[1:]] == ["CLSD"]


def test_a_second_run_on_the_same_day_adds_the_time(run_export: Any) -> None:
    Program()
    exported = run_export("case_event", taken={"CaseUpdatesSync_20261123.txt"})
    assert exported.names == ["CaseUpdatesSync_20261123140509.txt"]
    local = run_export("case_event", timezone="Pacific/Auckland")
    assert local.names == ["CaseUpdatesSync_20261124.txt"]  # the date in the sync's zone


def golden_data() -> None:
    p = Program()
    s = db.session()
    one = p.open(0, category=p.billing, queue=p.front, note="Member called")
    two = p.open(1, member=None, subject="Web form: Crème brûlée", user="Zoë")
    cases.touch_case(s, one, user="jo", note="Left a message", at=at(2))
    cases.change_case_queue(s, two, p.escalations, note="Needs a | supervisor", at=at(3))
    cases.add_case_descriptor(s, one, p.vip, at=at(4))
    cases.close_case(s, one, user="jo", at=at(5))
    cases.change_case_category(s, two, p.billing, at=at(5))
    cases.reopen_case(s, one, user="maria", at=at(6))
    cases.remove_case_descriptor(s, one, p.vip, at=at(7))
    db.session.commit()


def test_golden_default(run_export: Any) -> None:
    golden_data()
    exported = run_export("case_event")
    assert exported.names == ["CaseUpdatesSync_20261123.txt"]
    check_golden(exported.bytes(), "case_event", "default")
