"""member_descriptor: the spec's header and example rows, byte for byte, and the rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from loyalty.models import Descriptor, Member
from loyalty.services import descriptors, members
from tests.fixtures.exports import give_account_id, member_with_id
from webapp.extensions import db

HEADER = "MemberInternalId|MemberPrimaryAccountId|MemberFirstName|MemberLastName|MemberDescriptorExpireDate|MemberDescriptorExtRef"
EXAMPLE = [
    "18895|590000|Tim|Toose||ABC",
    "18898|1231234124aaa|Pauly|Pablo|2016-12-31|ABC",
]
IN_2016 = datetime(2016, 12, 1, 9, 0, tzinfo=UTC)


def spec_data() -> Descriptor:
    abc = Descriptor(ext_ref="ABC", name="ABC members")
    db.session.add(abc)
    tim = member_with_id(18895, first_name="Tim", last_name="Toose")
    pauly = member_with_id(18898, first_name="Pauly", last_name="Pablo")
    give_account_id(tim, "590000")
    give_account_id(pauly, "1231234124aaa")
    descriptors.assign_descriptor(db.session(), tim, abc, expires_on=None, at=IN_2016)
    descriptors.assign_descriptor(
        db.session(), pauly, abc, expires_on=date(2016, 12, 31), at=IN_2016
    )
    db.session.commit()
    return abc


def test_spec_example_rows_byte_for_byte(run_export: Any) -> None:
    abc = spec_data()
    started = datetime(2016, 12, 30, 8, 0, tzinfo=UTC)
    exported = run_export("member_descriptor", scope={"descriptor_id": abc.id}, started=started)
    assert exported.names == ["Standard_Member_Descriptor_Sync_ABC_12302016080000.txt"]
    assert exported.bytes() == ("\r\n".join([HEADER, *EXAMPLE]) + "\r\n").encode()


def test_expired_and_deleted_members_are_left_out(run_export: Any) -> None:
    abc = spec_data()
    exported = run_export(
        "member_descriptor", scope={"descriptor_id": abc.id}
    )  # in 2026 Pauly's expired
    assert exported.lines() == [HEADER, "18895|590000|Tim|Toose||ABC"]
    members.delete_member(db.session(), db.session.get(Member, 18895))
    db.session.commit()
    assert run_export("member_descriptor", scope={"descriptor_id": abc.id}).lines() == [HEADER]


def test_values_never_shift_columns(run_export: Any) -> None:
    odd_ref = Descriptor(ext_ref="P/Q 1", name="odd ref")
    db.session.add(odd_ref)
    odd = member_with_id(5, first_name="Zoë|Ann", last_name="O'Brien Jr")
    give_account_id(odd, "A-1")
    descriptors.assign_descriptor(db.session(), odd, odd_ref, expires_on=None)
    db.session.commit()
    exported = run_export("member_descriptor", scope={"descriptor_id": odd_ref.id})
    assert exported.names[0].startswith("Standard_Member_Descriptor_Sync_P_Q_1_")
    assert exported.lines()[1] == "5|A-1|Zoë¦Ann|O'Brien Jr||P/Q 1"
    assert all(line.count("|") == 5 for line in exported.lines())
