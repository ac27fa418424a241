"""reward: one record per reward event, 7 record types, the timezone rule, type-6 records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import exporters
from loyalty.models import (
    AccountIdType,
    BusinessUnit,
    Member,
    Reward,
    RewardCategory,
    RewardType,
)
from loyalty.services import catalog, contacts, custom_fields, members, points, rewards
from tests.integration.exporters.events_support import check_golden, export_around_write
from webapp.extensions import db

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)  # 06:00 in Toronto (EDT, UTC-4)
STAMP = "20261123140509"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Program:
    def __init__(self) -> None:
        s = db.session()
        bu = catalog.create(s, BusinessUnit, ext_ref="BU1", name="Retail")
        self.store = catalog.create_location(
            s, name="Main Street", ext_ref="LOC001", business_unit_id=bu.id
        )
        default = catalog.create(s, RewardCategory, name="Default Category")
        self.dinner = catalog.create(
            s,
            RewardType,
            name="Unique $20 Dinner Reward",
            ext_ref="20_DINNER_REWARD",
            category_id=default.id,
            master_type="Choice",
            retail_value=Decimal("20.00"),
            point_value=Decimal("200"),
            valid_days=30,
        )
        self.forced = catalog.create(
            s,
            RewardType,
            name="$10 Forced | Reward",
            ext_ref=None,
            category_id=default.id,
            master_type="Forced",
            retail_value=Decimal("10.00"),
        )
        card = catalog.create(s, AccountIdType, ext_ref="CARD", name="Card", display_rank=1)
        self.anna = members.enrol_member(s, first_name="Anna", at=T0)
        contacts.add_account_id(s, self.anna, card, "1000A", at=T0)
        contacts.add_email(s, self.anna, "anna@example.com", at=T0)
        contacts.set_phone(s, self.anna, "mobile", "+1 (416) 555-0199", at=T0)
        points.adjust_points(s, self.anna, 1000, at=T0)
        self.zoe = members.enrol_member(s, first_name="Zoë", at=T0)
        self.channel = custom_fields.define_custom_field(s, "reward", "CHANNEL", "Channel")
        self.serial = custom_fields.define_custom_field(s, "reward", "SERIAL", "Serial", "number")
        db.session.commit()

    def issue(self, member: Member, reward_type: RewardType, minutes: float, **kw: Any) -> Reward:
        reward = rewards.issue_reward(db.session(), member, reward_type, at=at(minutes), **kw)
        db.session.commit()
        return reward


@pytest.fixture
def toronto(app: Any) -> None:
    app.config["DATABASE_TIMEZONE"] = "America/Toronto"


def records(exported: Any) -> list[list[str]]:
    return [line.split("|") for line in exported.lines()]


def test_issued_record_documented_fields_and_designed_rest(run_export: Any, toronto: None) -> None:
    p = Program()
    reward = p.issue(p.anna, p.dinner, 0, barcode="BC-0001", location=p.store, actor="pos")
    exported = run_export("reward")
    assert exported.names == [f"Standard_Reward_Sync_1_1_{STAMP}.txt"]
    assert exported.lines() == [
        f"1|{reward.id}|{p.anna.id}|BC-0001|20_DINNER_REWARD|Unique $20 Dinner Reward|20.00|"
        "200.00|2026-05-04 06:00:00|anna@example.com|+1 (416) 555-0199|Choice|2026-06-03|"
        "1000A|LOC001|pos|Active"
    ]


def test_every_record_type_one_record_per_event(run_export: Any, toronto: None) -> None:
    p = Program()
    s = db.session()
    dinner = p.issue(p.anna, p.dinner, 0, barcode="D1")
    forced = p.issue(p.zoe, p.forced, 1, barcode="F1", expires_on=date(2026, 6, 1))
    rewards.redeem_reward(s, dinner, location=p.store, actor="pos", at=at(2))
    rewards.reverse_redemption(s, dinner, actor="csr", at=at(3))
    rewards.redeem_reward(s, dinner, actor="app", at=at(4))  # redeemed twice: two records
    rewards.cancel_reward(s, dinner, actor="csr", at=at(5))  # 200 points given back
    rewards.change_reward_expiration(s, forced, date(2026, 7, 1), actor="csr", at=at(6))
    rewards.expire_reward(s, forced, at=at(7))
    db.session.commit()
    d, f, a, z = dinner.id, forced.id, p.anna.id, p.zoe.id
    dinner_common = f"{d}|{a}|D1|20_DINNER_REWARD|Unique $20 Dinner Reward|20.00|200.00"
    forced_common = f"{f}|{z}|F1||$10 Forced ¦ Reward|10.00|0.00"
    assert run_export("reward").lines() == [
        f"1|{dinner_common}|2026-05-04 06:00:00|anna@example.com|+1 (416) 555-0199|Choice|"
        "2026-06-03|1000A|||Cancelled",
        f"1|{forced_common}|2026-05-04 06:01:00|||Forced|2026-07-01||||Expired",
        f"2|{dinner_common}|2026-05-04 06:02:00|1000A|LOC001|pos|Cancelled",
        f"4|{dinner_common}|2026-05-04 06:03:00|1000A||csr|Cancelled",
        f"2|{dinner_common}|2026-05-04 06:04:00|1000A||app|Cancelled",
        f"3|{dinner_common}|2026-05-04 06:05:00|1000A||csr|Cancelled|200.00",
        f"7|{forced_common}|2026-05-04 06:06:00|||csr|Expired|2026-06-01|2026-07-01",
        f"5|{forced_common}|2026-05-04 06:07:00|||batch|Expired",
    ]


def test_field_counts_match_the_declared_record_types(run_export: Any) -> None:
    p = Program()
    s = db.session()
    dinner = p.issue(p.anna, p.dinner, 0)
    other = p.issue(p.anna, p.dinner, 0.5)
    custom_fields.set_reward_custom_field(s, dinner, p.channel, "app", at=at(0))
    rewards.redeem_reward(s, dinner, at=at(1))
    rewards.reverse_redemption(s, dinner, at=at(2))
    rewards.cancel_reward(s, dinner, at=at(3))
    rewards.change_reward_expiration(s, other, date(2026, 12, 31), at=at(4))
    rewards.expire_reward(s, other, at=at(5))
    db.session.commit()
    declared = {r.code: len(r.columns) for r in exporters.get("reward").file_kinds[0].record_types}
    written = records(run_export("reward", options={"custom_field_values": True}))
    assert {r[0] for r in written} == set(declared)  # all seven types occur
    assert all(len(r) == declared[r[0]] for r in written)


def test_include_source_dates_writes_every_timestamp_in_utc(run_export: Any, toronto: None) -> None:
    p = Program()
    reward = p.issue(p.anna, p.dinner, 0)
    rewards.redeem_reward(db.session(), reward, at=at(1))
    db.session.commit()
    default = [r[8] for r in records(run_export("reward"))]
    utc = [r[8] for r in records(run_export("reward", options={"include_source_dates": True}))]
    assert default == ["2026-05-04 06:00:00", "2026-05-04 06:01:00"]
    assert utc == ["2026-05-04 10:00:00", "2026-05-04 10:01:00"]


def test_custom_field_records_follow_issued_and_redeemed_only(run_export: Any) -> None:
    p = Program()
    s = db.session()
    dinner = p.issue(p.anna, p.dinner, 0)
    custom_fields.set_reward_custom_field(s, dinner, p.serial, "12.50", at=at(0))
    custom_fields.set_reward_custom_field(s, dinner, p.channel, "in | store", at=at(0))
    bare = p.issue(p.zoe, p.forced, 1)  # no custom values: no type-6 records
    rewards.redeem_reward(s, dinner, at=at(2))
    custom_fields.set_reward_custom_field(s, dinner, p.serial, None, at=at(2.5))  # cleared
    rewards.reverse_redemption(s, dinner, at=at(3))
    db.session.commit()
    d, a = dinner.id, p.anna.id
    on = records(run_export("reward", options={"custom_field_values": True}))
    assert [r[0] for r in on] == ["1", "6", "1", "2", "6", "4"]
    # Current values, in custom field creation order; the cleared field writes nothing.
    assert ["|".join(r) for r in on if r[0] == "6"] == [
        f"6|{d}|{a}|CHANNEL|Channel|in ¦ store|1",
        f"6|{d}|{a}|CHANNEL|Channel|in ¦ store|2",
    ]
    assert on[2][1] == str(bare.id)
    off = records(run_export("reward"))
    assert [r[0] for r in off] == ["1", "1", "2", "4"]


def test_one_record_per_custom_field_in_field_order(run_export: Any) -> None:
    p = Program()
    s = db.session()
    dinner = p.issue(p.anna, p.dinner, 0)
    custom_fields.set_reward_custom_field(s, dinner, p.serial, "7", at=at(0))
    custom_fields.set_reward_custom_field(s, dinner, p.channel, "app", at=at(0))
    db.session.commit()
    on = records(run_export("reward", options={"custom_field_values": True}))
    assert [(r[0], r[3] if r[0] == "6" else "") for r in on] == [
        ("1", ""),
        ("6", "CHANNEL"),
        ("6", "SERIAL"),
    ]


def test_sync_number_is_the_run_id_and_zero_outside_a_run(
    app: Any, tmp_path: Path, run_export: Any
) -> None:
    Program()
    app.config["DATABASE_NUMBER"] = 7
    in_run = export_around_write(app, tmp_path / "run", "reward", instance_id=5123)
    assert in_run.names == [f"Standard_Reward_Sync_7_5123_{STAMP}.txt"]
    preview = export_around_write(app, tmp_path / "preview", "reward", instance_id=None)
    assert preview.names == [f"Standard_Reward_Sync_7_0_{STAMP}.txt"]
    assert preview.bytes() == b""  # no events, no header: an empty file


def test_increments_lose_nothing_and_repeat_nothing(run_export: Any) -> None:
    p = Program()
    reward = p.issue(p.anna, p.dinner, 0)
    first = run_export("reward")
    assert [r[0] for r in records(first)] == ["1"]  # first run: the whole log
    rewards.redeem_reward(db.session(), reward, at=at(1))
    db.session.commit()
    second = run_export("reward", watermark=first.result.watermark)
    assert [r[0] for r in records(second)] == ["2"]
    points.adjust_points(db.session(), p.anna, 5, at=at(2))  # not a reward event
    db.session.commit()
    assert run_export("reward", watermark=second.result.watermark).bytes() == b""


def test_a_change_committed_during_the_export_comes_in_the_next_one(
    app: Any, tmp_path: Path, run_export: Any
) -> None:
    p = Program()
    reward = p.issue(p.anna, p.dinner, 0)

    def redeem() -> None:
        rewards.redeem_reward(db.session(), reward, at=at(1))
        db.session.commit()

    exported = export_around_write(app, tmp_path / "during", "reward", redeem)
    assert [r[0] for r in records(exported)] == ["1"]
    following = run_export("reward", watermark=exported.result.watermark)
    assert [r[0] for r in records(following)] == ["2"]


def golden_data() -> None:
    p = Program()
    s = db.session()
    dinner = p.issue(p.anna, p.dinner, 0, barcode="DINNER-1", location=p.store, actor="pos 7")
    custom_fields.set_reward_custom_field(s, dinner, p.channel, "Café app", at=at(0))
    custom_fields.set_reward_custom_field(s, dinner, p.serial, "42", at=at(0))
    forced = p.issue(p.zoe, p.forced, 1, barcode="FORCED-1", expires_on=date(2026, 5, 31))
    spare = p.issue(p.anna, p.dinner, 2, barcode="DINNER-2")
    rewards.redeem_reward(s, dinner, location=p.store, actor="pos 7", at=at(3))
    rewards.reverse_redemption(s, dinner, actor="Zoë (CSR)", at=at(4))
    rewards.redeem_reward(s, dinner, actor="app", at=at(5))
    rewards.change_reward_expiration(s, forced, None, actor="csr", at=at(6))
    rewards.cancel_reward(s, spare, actor="csr", at=at(7))
    rewards.expire_reward(s, p.issue(p.zoe, p.forced, 8, barcode="FORCED-2"), at=at(9))
    db.session.commit()


@pytest.mark.parametrize(
    ("case", "options"),
    [
        ("default", {}),
        ("include_source_dates", {"include_source_dates": True}),
        ("custom_field_values", {"custom_field_values": True}),
    ],
)
def test_golden(run_export: Any, toronto: None, case: str, options: dict[str, Any]) -> None:
    golden_data()
    exported = run_export("reward", options=options)
    assert exported.names == [f"Standard_Reward_Sync_1_1_{STAMP}.txt"]
    check_golden(exported.bytes(), "reward", case)
