"""The tests campaign_member and promotion_member share: one layout, two scopes.

Each test module subclasses ``MembershipSyncTests`` with its ``kind``; pytest collects
the subclass (``Test...``), never this base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from loyalty.models import Campaign, Member, Promotion
from loyalty.services import catalog, contacts, engagement, members
from tests.integration.exporters.members_b_support import all_bytes, at, check_golden, enrol
from webapp.extensions import db

Group = Campaign | Promotion


@dataclass(frozen=True)
class MembershipKind:
    key: str  # sync type key
    scope_key: str  # "campaign_id"
    prefix: str  # file name prefix, "Standard_Campaign_Member_Sync"
    header: str
    model: type[Campaign] | type[Promotion]
    join: Callable[..., bool]
    leave: Callable[..., None]

    def create(self, ext_ref: str) -> Group:
        return catalog.create(
            db.session(),
            self.model,
            ext_ref=ext_ref,
            name=f"{ext_ref} group",
            starts_on=date(2026, 1, 1),
        )

    def add(self, member: Member, group: Group, joined: date, expires: date | None = None) -> None:
        self.join(db.session(), member, group, joined_on=joined, expires_on=expires, at=at())


CAMPAIGN = MembershipKind(
    "campaign_member",
    "campaign_id",
    "Standard_Campaign_Member_Sync",
    "CampaignExtRef|MemberInternalId|MemberPrimaryAccountId|MemberFirstName|MemberLastName|MemberEmail|CampaignJoinDate|CampaignExpireDate",
    Campaign,
    engagement.join_campaign,
    engagement.leave_campaign,
)
PROMOTION = MembershipKind(
    "promotion_member",
    "promotion_id",
    "Standard_Promotion_Member_Sync",
    "PromotionExtRef|MemberInternalId|MemberPrimaryAccountId|MemberFirstName|MemberLastName|MemberEmail|PromotionJoinDate|PromotionExpireDate",
    Promotion,
    engagement.join_promotion,
    engagement.leave_promotion,
)
STAMP = "11232026140509"  # RUN_START (2026-11-23 14:05:09 UTC), month first


class MembershipSyncTests:
    kind: MembershipKind

    def run(self, run_export: Any, group: Group, **kwargs: Any) -> Any:
        return run_export(self.kind.key, scope={self.kind.scope_key: group.id}, **kwargs)

    def golden_data(self) -> Group:
        group = self.create("SPRING26")
        other = self.create("OTHER")
        people = [
            ("100001", "Thomas", "Nestor", "thomas@example.com", date(2026, 2, 1), None),
            ("100002", "Rufus", "Holmes", None, date(2026, 3, 15), date(2026, 12, 31)),
            (
                "100003",
                "Émilie",
                "Dubois",
                "emilie@example.fr",
                date(2026, 4, 1),
                date(2026, 11, 23),
            ),
            ("100004", "Kenji", "Sato", None, date(2026, 4, 2), date(2026, 11, 22)),  # expired
            ("100005", "Li", "Wei", "li@example.cn", date(2026, 5, 9), None),
        ]
        for account, first, last, email, joined, expires in people:
            member = enrol(account, when=at(), first_name=first, last_name=last)
            if email:
                contacts.add_email(db.session(), member, email, at=at())
            self.kind.add(member, group, joined, expires)
        self.kind.add(enrol("200001", when=at()), other, date(2026, 1, 1))
        db.session.commit()
        return group

    def create(self, ext_ref: str) -> Group:
        return self.kind.create(ext_ref)

    @pytest.mark.parametrize(
        ("case", "options"), [("default", {}), ("split_2", {"max_records": 2})]
    )
    def test_goldens(self, run_export: Any, case: str, options: dict[str, Any]) -> None:
        group = self.golden_data()
        check_golden(all_bytes(self.run(run_export, group, options=options)), self.kind.key, case)

    def test_header_rows_and_name(self, run_export: Any) -> None:
        group = self.golden_data()
        exported = self.run(run_export, group)
        assert exported.names == [f"{self.kind.prefix}_SPRING26_{STAMP}.txt"]
        assert exported.lines() == [
            self.kind.header,
            "SPRING26|1|100001|Thomas|Nestor|thomas@example.com|2026-02-01|",
            "SPRING26|2|100002|Rufus|Holmes||2026-03-15|2026-12-31",
            # Expires today (in the sync's zone): still a member until the day ends.
            "SPRING26|3|100003|Émilie|Dubois|emilie@example.fr|2026-04-01|2026-11-23",
            "SPRING26|5|100005|Li|Wei|li@example.cn|2026-05-09|",
        ]

    def test_expiry_is_judged_on_the_sync_zones_date(self, run_export: Any) -> None:
        group = self.golden_data()
        # 14:05 UTC on the 23rd is already the 24th in Auckland: Émilie's day is over.
        exported = self.run(run_export, group, timezone="Pacific/Auckland")
        assert [line.split("|")[1] for line in exported.lines()[1:]] == ["1", "2", "5"]

    def test_members_who_left_or_were_deleted_are_left_out(self, run_export: Any) -> None:
        group = self.golden_data()
        self.kind.leave(db.session(), db.session.get_one(Member, 1), group, at=at(1))
        members.delete_member(db.session(), db.session.get_one(Member, 2), at=at(1))
        db.session.commit()
        exported = self.run(run_export, group)
        assert [line.split("|")[1] for line in exported.lines()[1:]] == ["3", "5"]

    def test_values_never_shift_columns(self, run_export: Any) -> None:
        group = self.create("P/Q 1")
        member = enrol("A-1", first_name="Zoë|Ann", last_name="O'Brien")
        self.kind.add(member, group, date(2026, 6, 1))
        db.session.commit()
        member.last_name = "O'Brien\r\nJr"  # older data may hold line breaks
        db.session.commit()
        exported = self.run(run_export, group)
        assert exported.names == [f"{self.kind.prefix}_P_Q_1_{STAMP}.txt"]
        assert exported.lines()[1] == "P/Q 1|1|A-1|Zoë¦Ann|O'Brien  Jr||2026-06-01|"

    @pytest.mark.parametrize(("count", "files"), [(3, 1), (4, 2)])
    def test_splitting_boundary(self, run_export: Any, count: int, files: int) -> None:
        group = self.create("G1")
        for n in range(count):
            self.kind.add(enrol(f"S{n}"), group, date(2026, 6, 1))
        db.session.commit()
        exported = self.run(run_export, group, options={"max_records": 3})
        assert exported.names == [
            f"{self.kind.prefix}_G1_{STAMP}_{i:02d}.txt" for i in range(1, files + 1)
        ]
        assert [f.rows for f in exported.result.files] == [3, 1][:files]
        assert all(exported.lines(i)[0] == self.kind.header for i in range(files))

    def test_an_empty_group_gives_a_header_only_file(self, run_export: Any) -> None:
        group = self.create("EMPTY")
        db.session.commit()
        exported = self.run(run_export, group, started=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
        assert exported.names == [f"{self.kind.prefix}_EMPTY_01022026030405.txt"]
        assert exported.lines() == [self.kind.header]

    def test_a_deleted_scope_object_fails_clearly(self, run_export: Any) -> None:
        with pytest.raises(LookupError, match="no longer exists"):
            run_export(self.kind.key, scope={self.kind.scope_key: 4242})
