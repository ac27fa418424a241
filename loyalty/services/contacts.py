"""Account ids, emails, phones and addresses.

Every change here may move a member's primary account id, primary email or mobile phone,
so each one ends with ``_refresh_contacts``: the maintained columns on ``members`` are
recomputed with the SQL rules of ``loyalty.primary`` in the same
transaction. Change log (kind ``member``): Account Id (2), Email (3), Phone (4),
Address (5); the subject is the id/email/phone/address row (removals carry
``{"removed": true}`` in the payload, the row itself being gone).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, MemberTrigger
from loyalty.models.contacts import (
    AccountId,
    AccountIdType,
    MemberAddress,
    MemberEmail,
    MemberPhone,
)
from loyalty.models.enums import AccountIdStatus, AddressType, PhoneType
from loyalty.models.members import Member
from loyalty.primary import (
    mobile_phone_of,
    primary_account_id_of,
    primary_email_of,
    refresh_contact_columns,
)
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch

EMAIL_PATTERN = re.compile(r"^[^@\s|]+@[^@\s|]+\.[^@\s|]+$")
# Phone numbers are stored as displayed: digits and the usual punctuation, "+" first.
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()./-]{3,30}$")
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9A-Za-z._-]+$")


def _refresh_contacts(session: Session, member: Member) -> None:
    session.flush()
    row = session.execute(
        select(
            primary_account_id_of(member.id),
            primary_email_of(member.id),
            mobile_phone_of(member.id),
        )
    ).one()
    member.primary_account_id, member.primary_email, member.mobile_phone = row


def _log(
    session: Session,
    member: Member,
    trigger: MemberTrigger,
    when: datetime,
    subject: int,
    removed: bool = False,
) -> None:
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        trigger,
        when,
        member_id=member.id,
        subject_id=subject,
        payload={"removed": True} if removed else None,
    )


# -- account ids ----------------------------------------------------------------------------


def add_account_id(
    session: Session,
    member: Member,
    id_type: AccountIdType,
    value: str,
    *,
    at: datetime | None = None,
) -> AccountId:
    """Give a member a new (active) account id; ids are unique across the program."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    clean = checks.text("value", value, 60, required=True)
    if clean and not ACCOUNT_ID_PATTERN.match(clean):
        checks.fail("value", "An account id has letters, digits, '.', '_' and '-' only.")
    if (
        clean
        and session.scalar(select(AccountId.member_id).where(AccountId.value == clean)) is not None
    ):
        checks.fail("value", f"Account id {clean!r} is already in use.")
    checks.done()
    account = AccountId(member_id=member.id, type_id=id_type.id, value=clean, added_at=when)
    session.add(account)
    session.flush()
    _log(session, member, MemberTrigger.ACCOUNT_ID, when, account.id)
    _refresh_contacts(session, member)
    return account


def set_account_id_status(
    session: Session,
    account: AccountId,
    status: AccountIdStatus | str,
    *,
    at: datetime | None = None,
) -> bool:
    when = moment(at)
    member = session.get_one(Member, account.member_id)
    check_member_writable(member)
    try:
        new = AccountIdStatus(status)
    except ValueError:
        raise ValidationError({"status": f"Unknown account id status {status!r}."}) from None
    if account.status == new:
        return False
    account.status = new
    account.status_changed_at = when
    _log(session, member, MemberTrigger.ACCOUNT_ID, when, account.id)
    _refresh_contacts(session, member)
    return True


def set_account_id_type_rank(
    session: Session,
    id_type: AccountIdType,
    rank: int,
    *,
    at: datetime | None = None,
    chunk: int = 5000,
) -> int:
    """Change an id type's Rank for Display. Every member whose primary account id moves
    because of it gets an Account Id (2) record; returns how many did."""
    when = moment(at)
    if not isinstance(rank, int) or rank < 1:
        raise ValidationError({"rank": "Rank for Display is a whole number, 1 (primary) or more."})
    if id_type.display_rank == rank:
        return 0
    id_type.display_rank = rank
    session.flush()
    member_ids = list(
        session.scalars(
            select(AccountId.member_id)
            .where(AccountId.type_id == id_type.id)
            .distinct()
            .order_by(AccountId.member_id)
        )
    )
    moved = 0
    for start in range(0, len(member_ids), chunk):
        ids = member_ids[start : start + chunk]
        before = dict(
            session.execute(
                select(Member.id, Member.primary_account_id).where(Member.id.in_(ids))
            ).all()
        )
        refresh_contact_columns(session, ids)
        after = session.execute(
            select(Member.id, Member.primary_account_id).where(Member.id.in_(ids))
        ).all()
        for member_id, value in after:
            if before.get(member_id) != value:
                moved += 1
                log_change(
                    session,
                    ChangeKind.MEMBER,
                    MemberTrigger.ACCOUNT_ID,
                    when,
                    member_id=member_id,
                    payload={"id_type_rank": id_type.ext_ref},
                )
    session.flush()
    return moved


# -- emails ---------------------------------------------------------------------------------


def _clean_email(address: str) -> str:
    checks = Checks()
    clean = checks.text("email", address, 254, required=True)
    if clean and not EMAIL_PATTERN.match(clean):
        checks.fail("email", f"{clean!r} is not an email address.")
    checks.done()
    assert clean is not None
    return clean


def add_email(
    session: Session,
    member: Member,
    address: str,
    *,
    primary: bool = True,
    at: datetime | None = None,
) -> MemberEmail:
    """Add an email; a primary one replaces the member's primary email (the old stays)."""
    when = moment(at)
    check_member_writable(member)
    clean = _clean_email(address)
    if primary:
        current = session.scalar(
            select(MemberEmail).where(
                MemberEmail.member_id == member.id, MemberEmail.is_primary.is_(True)
            )
        )
        if current is not None:
            current.is_primary = False
            current.updated_at = when
            session.flush()  # one primary at a time (partial unique index)
    email = MemberEmail(
        member_id=member.id, address=clean, is_primary=primary, added_at=when, updated_at=when
    )
    session.add(email)
    session.flush()
    _log(session, member, MemberTrigger.EMAIL, when, email.id)
    _refresh_contacts(session, member)
    return email


def change_email(
    session: Session, member: Member, address: str, *, at: datetime | None = None
) -> MemberEmail:
    """Change the member's primary email address (adds one when there is none)."""
    when = moment(at)
    check_member_writable(member)
    clean = _clean_email(address)
    current = session.scalar(
        select(MemberEmail).where(
            MemberEmail.member_id == member.id, MemberEmail.is_primary.is_(True)
        )
    )
    if current is None:
        return add_email(session, member, clean, at=when)
    if current.address == clean:
        return current
    current.address = clean
    current.updated_at = when
    _log(session, member, MemberTrigger.EMAIL, when, current.id)
    _refresh_contacts(session, member)
    return current


def remove_email(session: Session, email: MemberEmail, *, at: datetime | None = None) -> None:
    when = moment(at)
    member = session.get_one(Member, email.member_id)
    check_member_writable(member)
    email_id = email.id
    session.delete(email)
    _log(session, member, MemberTrigger.EMAIL, when, email_id, removed=True)
    _refresh_contacts(session, member)


# -- phones ---------------------------------------------------------------------------------


def set_phone(
    session: Session,
    member: Member,
    phone_type: PhoneType | str,
    number: str,
    *,
    at: datetime | None = None,
) -> MemberPhone:
    """Set the member's number of one type (as displayed, e.g. ``+1 (416) 555-0199``)."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    try:
        kind = PhoneType(phone_type)
    except ValueError:
        checks.fail("phone_type", f"Unknown phone type {phone_type!r}.")
        kind = PhoneType.OTHER
    clean = checks.text("number", number, 30, required=True)
    if clean and not PHONE_PATTERN.match(clean):
        checks.fail("number", f"{clean!r} is not a phone number.")
    checks.done()
    assert clean is not None  # required: done() raised if it was missing
    phone = session.scalar(
        select(MemberPhone).where(
            MemberPhone.member_id == member.id, MemberPhone.phone_type == kind
        )
    )
    if phone is not None and phone.number == clean:
        return phone
    if phone is None:
        phone = MemberPhone(
            member_id=member.id, phone_type=kind, number=clean, added_at=when, updated_at=when
        )
        session.add(phone)
        session.flush()
    else:
        phone.number = clean
        phone.updated_at = when
    _log(session, member, MemberTrigger.PHONE, when, phone.id)
    _refresh_contacts(session, member)
    return phone


def remove_phone(
    session: Session, member: Member, phone_type: PhoneType | str, *, at: datetime | None = None
) -> None:
    when = moment(at)
    check_member_writable(member)
    phone = session.scalar(
        select(MemberPhone).where(
            MemberPhone.member_id == member.id, MemberPhone.phone_type == str(phone_type)
        )
    )
    if phone is None:
        raise ValidationError({"phone_type": f"Member {member.id} has no {phone_type} phone."})
    phone_id = phone.id
    session.delete(phone)
    _log(session, member, MemberTrigger.PHONE, when, phone_id, removed=True)
    _refresh_contacts(session, member)


# -- addresses ------------------------------------------------------------------------------


def set_address(
    session: Session,
    member: Member,
    address_type: AddressType | str = AddressType.HOME,
    *,
    line1: str,
    line2: str | None = None,
    line3: str | None = None,
    city: str | None = None,
    region: str | None = None,
    postal_code: str | None = None,
    country: str | None = None,
    primary: bool = True,
    at: datetime | None = None,
) -> MemberAddress:
    """Set the member's address of one type; a primary one becomes the exported address."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    try:
        kind = AddressType(address_type)
    except ValueError:
        checks.fail("address_type", f"Unknown address type {address_type!r}.")
        kind = AddressType.OTHER
    values = {
        "line1": checks.text("line1", line1, 120, required=True),
        "line2": checks.text("line2", line2, 120),
        "line3": checks.text("line3", line3, 120),
        "city": checks.text("city", city, 120),
        "region": checks.text("region", region, 8),
        "postal_code": checks.text("postal_code", postal_code, 14),
        "country": checks.text("country", country, 2),
    }
    if values["country"] and not (
        values["country"].isascii() and values["country"].isalpha() and len(values["country"]) == 2
    ):
        checks.fail("country", "country is a two-letter ISO code, e.g. CA.")
    if values["country"]:
        values["country"] = values["country"].upper()
    checks.done()
    address = session.scalar(
        select(MemberAddress).where(
            MemberAddress.member_id == member.id, MemberAddress.address_type == kind
        )
    )
    if primary:
        others = session.scalars(
            select(MemberAddress).where(
                MemberAddress.member_id == member.id,
                MemberAddress.is_primary.is_(True),
                MemberAddress.address_type != kind,
            )
        ).all()
        for other in others:
            other.is_primary = False
            other.updated_at = when
        if others:
            session.flush()
    if address is None:
        address = MemberAddress(
            member_id=member.id,
            address_type=kind,
            added_at=when,
            updated_at=when,
            is_primary=primary,
            **values,
        )
        session.add(address)
        session.flush()
    else:
        if (
            all(getattr(address, k) == v for k, v in values.items())
            and address.is_primary == primary
        ):
            return address
        for key, value in values.items():
            setattr(address, key, value)
        address.is_primary = primary
        address.updated_at = when
    _log(session, member, MemberTrigger.ADDRESS, when, address.id)
    session.flush()
    return address


def remove_address(
    session: Session, member: Member, address_type: AddressType | str, *, at: datetime | None = None
) -> None:
    when = moment(at)
    check_member_writable(member)
    address = session.scalar(
        select(MemberAddress).where(
            MemberAddress.member_id == member.id, MemberAddress.address_type == str(address_type)
        )
    )
    if address is None:
        raise ValidationError(
            {"address_type": f"Member {member.id} has no {address_type} address."}
        )
    address_id = address.id
    session.delete(address)
    _log(session, member, MemberTrigger.ADDRESS, when, address_id, removed=True)
    session.flush()
