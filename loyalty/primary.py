"""The primary account id, primary email and mobile phone rules, as SQL.

Primary Account Id (sync-platform.md section 9): "the most recent *active* account id of
the highest-ranked account-id type; if no id has a primary-ranked type, the most recent
active id of any rank". Among a member's active ids, those whose type has the primary
Rank for Display (1) come first, then the most recently added wins; with no primary-ranked
id, the most recently added active id of any type wins. (Only the primary rank matters,
as the product's own wording says: ranks 2, 3... do not order among themselves.)

These scalar subqueries are the definition. Bulk exports should not evaluate them per row:
``members.primary_account_id``, ``members.primary_email`` and ``members.mobile_phone``
hold their values, maintained by the contact services in the same transaction as every
change that can move them (``refresh_contact_columns``), so an export of a million
members reads them like any other column. A test checks the columns against the rules.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import SQLColumnExpression, case, literal, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import ScalarSelect

from loyalty.models.contacts import AccountId, AccountIdType, MemberEmail, MemberPhone
from loyalty.models.enums import PRIMARY_RANK, AccountIdStatus, PhoneType
from loyalty.models.members import Member

# A member id column (correlated, e.g. ``Member.id``) or one literal id.
MemberIdArg = SQLColumnExpression[int] | int


def _member_ref(member_id: MemberIdArg) -> SQLColumnExpression[Any]:
    return literal(member_id) if isinstance(member_id, int) else member_id


def primary_account_id_of(member_id: MemberIdArg) -> ScalarSelect[str | None]:
    """The member's primary account id (NULL when they have no active id).

    ``member_id`` is a column (correlated, e.g. ``Member.id``) or a literal id.
    """
    ids = aliased(AccountId)
    types = aliased(AccountIdType)
    return (
        select(ids.value)
        .join(types, types.id == ids.type_id)
        .where(ids.member_id == _member_ref(member_id), ids.status == AccountIdStatus.ACTIVE)
        .order_by(
            case((types.display_rank == PRIMARY_RANK, 0), else_=1),
            ids.added_at.desc(),
            ids.id.desc(),
        )
        .limit(1)
        .scalar_subquery()
    )


def primary_email_of(member_id: MemberIdArg) -> ScalarSelect[str | None]:
    emails = aliased(MemberEmail)
    return (
        select(emails.address)
        .where(emails.member_id == _member_ref(member_id), emails.is_primary.is_(True))
        .limit(1)
        .scalar_subquery()
    )


def mobile_phone_of(member_id: MemberIdArg) -> ScalarSelect[str | None]:
    phones = aliased(MemberPhone)
    return (
        select(phones.number)
        .where(phones.member_id == _member_ref(member_id), phones.phone_type == PhoneType.MOBILE)
        .limit(1)
        .scalar_subquery()
    )


def refresh_contact_columns(session: Session, member_ids: list[int] | None = None) -> int:
    """Recompute the maintained columns from the rules, for some members or all (one
    UPDATE; used after changes that touch many members, e.g. an id type's rank).

    Returns the number of member rows updated. The ORM copies of those members are
    expired so that the next read sees the new values.
    """
    statement = update(Member).values(
        primary_account_id=primary_account_id_of(Member.id),
        primary_email=primary_email_of(Member.id),
        mobile_phone=mobile_phone_of(Member.id),
    )
    if member_ids is not None:
        statement = statement.where(Member.id.in_(member_ids))
    result = session.execute(statement.execution_options(synchronize_session=False))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Member) and (member_ids is None or obj.id in member_ids):
            session.expire(obj, ["primary_account_id", "primary_email", "mobile_phone"])
    return int(getattr(result, "rowcount", 0) or 0)
