"""Custom field definitions and values for members, transactions, locations, products and
rewards.

Values are validated against the definition's type and stored in a canonical text form
(see the model). Setting ``None`` or ``""`` clears a value. Change log: member values
write Member Custom Field Change (10, subject = field); transaction values write ``CUST``
(the Transaction Sync's custom field file; subject = transaction, subject2 = field);
reward values write Reward record type 6 (subject = reward, subject2 = field). Location
and product values feed cumulative syncs and are not logged.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import (
    ChangeKind,
    MemberTrigger,
    RewardTrigger,
    TransactionTrigger,
)
from loyalty.models.custom_fields import (
    VALUE_LENGTH,
    CustomFieldDefinition,
    LocationCustomValue,
    MemberCustomValue,
    ProductCustomValue,
    RewardCustomValue,
    TransactionCustomValue,
)
from loyalty.models.enums import CustomFieldEntity, CustomFieldType
from loyalty.models.locations import Location
from loyalty.models.members import Member
from loyalty.models.products import Product
from loyalty.models.rewards import Reward
from loyalty.models.transactions import Transaction
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch


def define_custom_field(
    session: Session,
    entity: CustomFieldEntity | str,
    ext_ref: str,
    name: str,
    data_type: CustomFieldType | str = CustomFieldType.TEXT,
    *,
    at: datetime | None = None,
) -> CustomFieldDefinition:
    when = moment(at)
    checks = Checks()
    try:
        clean_entity = CustomFieldEntity(entity)
    except ValueError:
        checks.fail("entity", f"Unknown custom field entity {entity!r}.")
        clean_entity = CustomFieldEntity.MEMBER
    try:
        clean_type = CustomFieldType(data_type)
    except ValueError:
        checks.fail("data_type", f"Unknown custom field type {data_type!r}.")
        clean_type = CustomFieldType.TEXT
    clean_ref = checks.text("ext_ref", ext_ref, 20, required=True)
    clean_name = checks.text("name", name, 60, required=True)
    if clean_ref and session.scalar(
        select(CustomFieldDefinition.id).where(
            CustomFieldDefinition.entity == clean_entity, CustomFieldDefinition.ext_ref == clean_ref
        )
    ):
        checks.fail("ext_ref", f"A {clean_entity} custom field {clean_ref!r} exists.")
    checks.done()
    definition = CustomFieldDefinition(
        entity=clean_entity,
        ext_ref=clean_ref,
        name=clean_name,
        data_type=clean_type,
        created_at=when,
    )
    session.add(definition)
    session.flush()
    return definition


def canonical_value(definition: CustomFieldDefinition, value: Any) -> str | None:
    """The stored text of ``value`` for this field, ``None`` to clear; ValidationError if bad."""
    field = definition.ext_ref
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = definition.data_type
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "y"):
            return "true"
        if text in ("false", "0", "no", "n"):
            return "false"
        raise ValidationError({field: f"{field} is true or false."})
    if kind == CustomFieldType.DATE:
        if isinstance(value, datetime):
            raise ValidationError({field: f"{field} is a date, not a time."})
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValidationError({field: f"{field} is a date (YYYY-MM-DD)."}) from None
    if kind == CustomFieldType.NUMBER:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError({field: f"{field} is a number."}) from None
        if not number.is_finite():
            raise ValidationError({field: f"{field} is a number."})
        return format(number.normalize(), "f")
    text = str(value).strip()
    if len(text) > VALUE_LENGTH:
        raise ValidationError({field: f"{field} has at most {VALUE_LENGTH} characters."})
    return text


def _set(
    session: Session,
    model: Any,
    key: dict[str, int],
    definition: CustomFieldDefinition,
    entity: CustomFieldEntity,
    value: Any,
    when: datetime,
) -> bool:
    if definition.entity != entity:
        raise ValidationError(
            {
                definition.ext_ref: f"{definition.ext_ref} is a {definition.entity} field, not a {entity} field."
            }
        )
    stored = canonical_value(definition, value)
    row = session.get(model, {**key, "field_id": definition.id})
    if row is None and stored is None:
        return False
    if row is not None and row.value == stored:
        return False
    if stored is None:
        session.delete(row)
    elif row is None:
        session.add(model(**key, field_id=definition.id, value=stored, updated_at=when))
    else:
        row.value = stored
        row.updated_at = when
    session.flush()
    return True


def set_member_custom_field(
    session: Session,
    member: Member,
    definition: CustomFieldDefinition,
    value: Any,
    *,
    at: datetime | None = None,
) -> bool:
    when = moment(at)
    check_member_writable(member)
    if not _set(
        session,
        MemberCustomValue,
        {"member_id": member.id},
        definition,
        CustomFieldEntity.MEMBER,
        value,
        when,
    ):
        return False
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CUSTOM_FIELD,
        when,
        member_id=member.id,
        subject_id=definition.id,
    )
    session.flush()
    return True


def set_transaction_custom_field(
    session: Session,
    transaction: Transaction,
    definition: CustomFieldDefinition,
    value: Any,
    *,
    at: datetime | None = None,
    log: bool = True,
) -> bool:
    """``log=False`` is for values given while posting (the posting's own record covers them)."""
    when = moment(at)
    key = {"transaction_id": transaction.id}
    if not _set(
        session, TransactionCustomValue, key, definition, CustomFieldEntity.TRANSACTION, value, when
    ):
        return False
    if log:
        log_change(
            session,
            ChangeKind.TRANSACTION,
            TransactionTrigger.CUSTOM_FIELD,
            when,
            member_id=transaction.member_id,
            subject_id=transaction.id,
            subject2_id=definition.id,
        )
        session.flush()
    return True


def set_reward_custom_field(
    session: Session,
    reward: Reward,
    definition: CustomFieldDefinition,
    value: Any,
    *,
    at: datetime | None = None,
) -> bool:
    when = moment(at)
    if not _set(
        session,
        RewardCustomValue,
        {"reward_id": reward.id},
        definition,
        CustomFieldEntity.REWARD,
        value,
        when,
    ):
        return False
    log_change(
        session,
        ChangeKind.REWARD,
        RewardTrigger.CUSTOM_FIELD,
        when,
        member_id=reward.member_id,
        subject_id=reward.id,
        subject2_id=definition.id,
    )
    session.flush()
    return True


def set_location_custom_field(
    session: Session,
    location: Location,
    definition: CustomFieldDefinition,
    value: Any,
    *,
    at: datetime | None = None,
) -> bool:
    when = moment(at)
    return _set(
        session,
        LocationCustomValue,
        {"location_id": location.id},
        definition,
        CustomFieldEntity.LOCATION,
        value,
        when,
    )


def set_product_custom_field(
    session: Session,
    product: Product,
    definition: CustomFieldDefinition,
    value: Any,
    *,
    at: datetime | None = None,
) -> bool:
    when = moment(at)
    return _set(
        session,
        ProductCustomValue,
        {"product_id": product.id},
        definition,
        CustomFieldEntity.PRODUCT,
        value,
        when,
    )
