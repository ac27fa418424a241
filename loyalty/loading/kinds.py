"""The kinds a load can hold and how one row of each is applied.

Each ``apply`` function matches the row on its kind's key (an external reference), then
creates or changes the object through the domain services (``loyalty.services``), which
check the values and write the change log in the caller's transaction. It returns
whether anything changed: a row equal to what is stored calls no writing service, so
loading the same file twice writes nothing and logs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.loading.declarations import Field, Kind, LineValue, RowInvalid, shown
from loyalty.models.contacts import (
    AccountId,
    AccountIdType,
    MemberAddress,
    MemberEmail,
    MemberPhone,
)
from loyalty.models.enums import (
    AddressType,
    MemberStatus,
    PhoneType,
    RewardMasterType,
    TransactionStatus,
)
from loyalty.models.locations import BusinessUnit, Location, PosCategory
from loyalty.models.members import Member
from loyalty.models.products import Product
from loyalty.models.rewards import RewardCategory, RewardType
from loyalty.models.transactions import Transaction, TransactionType
from loyalty.services import catalog, contacts, members, transactions
from loyalty.services.member_profile import FLAG_FIELDS, TEXT_FIELDS

M = TypeVar("M")


def _ref(field: str, max_length: int = 20, doc: str = "", required: bool = False) -> Field:
    return Field(field, "text", required=required, max_length=max_length, doc=doc)


def _find(session: Session, model: type[M], column: Any, value: str) -> M | None:
    return session.scalars(select(model).where(column == value).limit(1)).first()


def _lookup(session: Session, model: type[M], column: Any, field: str, value: str) -> M:
    found = _find(session, model, column, value)
    if found is None:
        raise RowInvalid([(field, shown(value), f"no {field} with reference {value!r}.")])
    return found


def _upsert_reference(
    session: Session, model: type[M], column: Any, values: dict[str, Any], key: str
) -> tuple[M, bool]:
    """Create or update a reference row (``catalog``) matched on ``values[key]``."""
    existing = _find(session, model, column, values[key])
    table = model.__table__  # type: ignore[attr-defined]
    if existing is None:
        given = {k: v for k, v in values.items() if v is not None}
        return catalog.create(session, model, **given), True
    # An empty cell clears an optional column; a required one keeps its value.
    changes = {k: v for k, v in values.items() if v is not None or table.c[k].nullable}
    return existing, bool(catalog.update(session, existing, **changes))


def _group(
    session: Session, model: type[M], values: Mapping[str, Any], prefix: str
) -> tuple[int | None, bool]:
    """The id of the business unit / POS category a location row names (created when new)."""
    ref = values.get(prefix)
    if ref is None:
        return None, False
    name = values.get(f"{prefix}_name")
    existing = _find(session, model, model.ext_ref, ref)  # type: ignore[attr-defined]
    if existing is None:
        return catalog.create(session, model, ext_ref=ref, name=name or ref).id, True  # type: ignore[attr-defined]
    changed = bool(name) and bool(catalog.update(session, existing, name=name))
    return existing.id, changed  # type: ignore[attr-defined]


# -- locations ------------------------------------------------------------------------------

_LOCATION_TEXT = (
    ("country_name", 120),
    ("country_abbr", 2),
    ("address1", 120),
    ("address2", 120),
    ("address3", 120),
    ("city", 120),
    ("region_name", 120),
    ("region_abbr", 8),
    ("postal_code", 14),
    ("phone", 30),
    ("email", 254),
    ("timezone", 64),
)


def apply_location(session: Session, values: Mapping[str, Any]) -> bool:
    row = {k: v for k, v in values.items() if k not in _GROUP_FIELDS}
    unit_id, unit_changed = _group(session, BusinessUnit, values, "business_unit")
    if unit_id is not None:
        row["business_unit_id"] = unit_id
    pos_changed = False
    if "pos_category" in values:
        row["pos_category_id"], pos_changed = _group(session, PosCategory, values, "pos_category")
    _, changed = _upsert_reference(session, Location, Location.ext_ref, row, "ext_ref")
    return changed or unit_changed or pos_changed


_GROUP_FIELDS = ("business_unit", "business_unit_name", "pos_category", "pos_category_name")

LOCATIONS = Kind(
    name="locations",
    title="Locations",
    key="ext_ref",
    doc="Stores and other places members shop at, with their business unit and POS "
    "category (created when a row names one that does not exist yet). Read in full by "
    "the Location sync (not change-logged).",
    fields=(
        _ref("ext_ref", required=True, doc="the location's external reference (the key)"),
        Field("name", required=True, max_length=120),
        _ref("business_unit", required=True, doc="business unit external reference"),
        Field("business_unit_name", max_length=120, doc="its name, when it is created or renamed"),
        _ref("pos_category", doc="POS category external reference"),
        Field("pos_category_name", max_length=120),
        Field("inactive", "bool"),
        Field("valid_for_feedback", "bool"),
        *(Field(name, max_length=length) for name, length in _LOCATION_TEXT),
    ),
    apply=apply_location,
    example={"ext_ref": "LOC001", "name": "Main Street", "business_unit": "RETAIL"},
)


# -- products -------------------------------------------------------------------------------


def apply_product(session: Session, values: Mapping[str, Any]) -> bool:
    if values.get("unit_price") is not None and values["unit_price"] < 0:
        raise RowInvalid(
            [("unit_price", shown(values["unit_price"]), "unit_price must not be negative.")]
        )
    _, changed = _upsert_reference(session, Product, Product.sku, dict(values), "sku")
    return changed


PRODUCTS = Kind(
    name="products",
    title="Products",
    key="sku",
    doc="The items of the catalogue, matched on their SKU. Read in full by the Product "
    "Item sync (not change-logged).",
    fields=(
        _ref("sku", required=True, doc="the product's SKU (the key)"),
        Field("name", required=True, max_length=120),
        _ref("alt_ref", doc="an alternative reference"),
        Field("category", max_length=60),
        Field("unit_price", "decimal"),
        Field("zero_points", "bool", doc="earns no base points"),
        Field("zero_retail", "bool", doc="retail value not kept"),
        Field("drop_from_basket", "bool", doc="left out of baskets"),
    ),
    apply=apply_product,
    example={"sku": "SKU-1", "name": "Coffee beans 1 kg", "unit_price": "18.50"},
)


# -- members --------------------------------------------------------------------------------

_STATUSES = ("active", "inactive", "suspended")
_PHONE_TYPES = ("mobile", "home", "work")


def apply_member(session: Session, values: Mapping[str, Any]) -> bool:
    ref = values["ext_ref"]
    profile = {
        k: v
        for k, v in values.items()
        if k in _PROFILE
        and not (k in FLAG_FIELDS and v is None)
        and not (k == "gender" and v is None)
    }
    member = _find(session, Member, Member.ext_ref, ref)
    changed = False
    if member is None:
        location = None
        if values.get("enrolment_location"):
            location = _lookup(
                session,
                Location,
                Location.ext_ref,
                "enrolment_location",
                values["enrolment_location"],
            )
        enrolled: datetime | None = values.get("enrolled_at")
        member = members.enrol_member(
            session, location=location, at=enrolled, source="load", **profile
        )
        changed = True
    else:
        if member.status == MemberStatus.DELETED:
            raise RowInvalid([("ext_ref", shown(ref), f"member {ref!r} is deleted.")])
        changed = bool(members.update_member(session, member, **profile))
    if values.get("status"):
        changed = members.set_member_status(session, member, values["status"]) or changed
    if values.get("account_id"):
        changed = _account_id(session, member, values) or changed
    if values.get("email"):
        current = session.scalar(
            select(MemberEmail.address).where(
                MemberEmail.member_id == member.id, MemberEmail.is_primary.is_(True)
            )
        )
        if current != values["email"]:
            contacts.change_email(session, member, values["email"])
            changed = True
    for phone_type in _PHONE_TYPES:
        number = values.get(f"phone_{phone_type}")
        if number:
            changed = _phone(session, member, PhoneType(phone_type), number) or changed
    if values.get("address_line1"):
        changed = _address(session, member, values) or changed
    return changed


def _phone(session: Session, member: Member, phone_type: PhoneType, number: str) -> bool:
    stored = session.scalar(
        select(MemberPhone.number).where(
            MemberPhone.member_id == member.id, MemberPhone.phone_type == phone_type
        )
    )
    if stored == number:
        return False
    try:
        contacts.set_phone(session, member, phone_type, number)
    except ValidationError as exc:
        raise _renamed(exc, {"number": f"phone_{phone_type.value}"}, number) from None
    return True


def _renamed(exc: ValidationError, names: Mapping[str, str], value: str) -> RowInvalid:
    """A service's error under the file's column name (``number`` -> ``phone_mobile``)."""
    return RowInvalid(
        [(names.get(name, name), shown(value), message) for name, message in exc.errors.items()]
    )


_ADDRESS_PARTS = ("line1", "line2", "line3", "city", "region", "postal_code", "country")


def _address(session: Session, member: Member, values: Mapping[str, Any]) -> bool:
    kind = AddressType(values.get("address_type") or AddressType.HOME)
    parts = {part: values.get(f"address_{part}") for part in _ADDRESS_PARTS}
    if parts["country"]:
        parts["country"] = parts["country"].upper()
    stored = session.scalar(
        select(MemberAddress).where(
            MemberAddress.member_id == member.id, MemberAddress.address_type == kind
        )
    )
    if (
        stored is not None
        and stored.is_primary
        and all(getattr(stored, k) == v for k, v in parts.items())
    ):
        return False
    try:
        contacts.set_address(session, member, kind, **parts)  # type: ignore[arg-type]
    except ValidationError as exc:
        names = {part: f"address_{part}" for part in _ADDRESS_PARTS}
        field = next(iter(exc.errors), "")
        raise _renamed(exc, names, str(parts.get(field) or "")) from None
    return True


def _account_id(session: Session, member: Member, values: Mapping[str, Any]) -> bool:
    value = values["account_id"]
    owner = session.scalar(select(AccountId.member_id).where(AccountId.value == value))
    if owner == member.id:
        return False
    type_ref = values.get("account_id_type")
    if not type_ref:
        raise RowInvalid([("account_id_type", "", "account_id_type is required with account_id.")])
    id_type = _lookup(session, AccountIdType, AccountIdType.ext_ref, "account_id_type", type_ref)
    contacts.add_account_id(session, member, id_type, value)
    return True


_PROFILE = (
    *TEXT_FIELDS,
    *FLAG_FIELDS,
    "birth_year",
    "birth_month",
    "birth_day",
    "gender",
    "offer_delivery",
    "message_delivery",
    "ext_ref",
)

MEMBERS = Kind(
    name="members",
    title="Members",
    key="ext_ref",
    doc="Members matched on the program's own member reference: the profile, the status, "
    "one account id, the primary e-mail, phones and the primary address per row. A profile change writes one Member "
    "Extended Core (1) record, a new account id an Account Id (2) record, a new e-mail an "
    "Email (3) record, a phone a Phone (4) and an address an Address (5) record.",
    fields=(
        _ref("ext_ref", required=True, doc="the member's external reference (the key)"),
        *(Field(name, max_length=60) for name in TEXT_FIELDS),
        Field("birth_year", "int"),
        Field("birth_month", "int"),
        Field("birth_day", "int"),
        Field("gender", choices=("male", "female", "undefined", "m", "f", "u")),
        *(Field(name, "bool") for name in FLAG_FIELDS),
        Field("offer_delivery", "int", doc="1 (Email) or 2 (Text)"),
        Field("message_delivery", "int", doc="1 (Email) or 2 (Text)"),
        Field("status", choices=_STATUSES),
        Field("enrolled_at", "datetime", doc="enrolment time (new members only)"),
        _ref("enrolment_location", doc="location external reference (new members only)"),
        Field("account_id", max_length=60, doc="an account id the member holds (added when new)"),
        _ref("account_id_type", doc="its id type's external reference"),
        Field("email", max_length=254, doc="the primary e-mail address"),
        *(Field(f"phone_{t}", max_length=30, doc=f"the {t} phone number") for t in _PHONE_TYPES),
        Field("address_type", choices=tuple(a.value for a in AddressType), doc="default home"),
        Field("address_line1", max_length=120, doc="the primary address (set when given)"),
        Field("address_line2", max_length=120),
        Field("address_line3", max_length=120),
        Field("address_city", max_length=120),
        Field("address_region", max_length=8, doc="abbreviation, e.g. ON"),
        Field("address_postal_code", max_length=14),
        Field("address_country", max_length=2, doc="ISO 3166-1 alpha-2, e.g. CA"),
    ),
    apply=apply_member,
    example={
        "ext_ref": "M0001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
    },
)


# -- transactions ---------------------------------------------------------------------------


def apply_transaction(session: Session, values: Mapping[str, Any]) -> bool:
    member = _lookup(session, Member, Member.ext_ref, "member", values["member"])
    existing = _find(session, Transaction, Transaction.ext_ref, values["ext_ref"])
    wants_cancel = values.get("status") == "cancelled"
    if existing is not None:
        if existing.member_id != member.id:
            raise RowInvalid(
                [
                    (
                        "ext_ref",
                        shown(values["ext_ref"]),
                        "this transaction belongs to another member.",
                    )
                ]
            )
        if wants_cancel and existing.status == TransactionStatus.POSTED:
            transactions.cancel_transaction(session, existing, reason=values.get("cancel_reason"))
            return True
        return False  # posted transactions are not edited: cancel and post a new one
    transaction_type = _lookup(
        session, TransactionType, TransactionType.ext_ref, "type", values["type"]
    )
    location = None
    if values.get("location"):
        location = _lookup(session, Location, Location.ext_ref, "location", values["location"])
    lines = [_line(session, line) for line in values.get("lines") or []]
    posted = transactions.post_transaction(
        session,
        member,
        transaction_type,
        occurred_at=values["occurred_at"],
        lines=lines,
        amount=values.get("amount"),
        location=location,
        ext_ref=values["ext_ref"],
        posted_by=values.get("posted_by"),
        at=values.get("posted_at"),
    )
    if wants_cancel:
        transactions.cancel_transaction(session, posted, reason=values.get("cancel_reason"))
    return True


def _line(session: Session, line: LineValue) -> transactions.LineInput:
    product = None
    if line.sku:
        product = _lookup(session, Product, Product.sku, "lines", line.sku)
    return transactions.LineInput(product, line.quantity, line.unit_price, line.points)


TRANSACTIONS = Kind(
    name="transactions",
    title="Transactions",
    key="ext_ref",
    doc="Purchases and other transactions with their basket lines, matched on their "
    "external reference. A new one is posted (POST record, points earned); a row with "
    "status cancelled cancels a posted one (CNCL record). Posted transactions are not "
    "edited: a row for a known reference changes nothing unless it cancels.",
    fields=(
        _ref("ext_ref", required=True, doc="the transaction's external reference (the key)"),
        _ref("member", required=True, doc="the member's external reference"),
        _ref("type", required=True, doc="transaction type external reference"),
        _ref("location", doc="location external reference"),
        Field("occurred_at", "datetime", required=True, doc="when it happened"),
        Field("posted_at", "datetime", doc="when it was posted (default: the load's time)"),
        Field("amount", "decimal", doc="the total (default: the sum of the lines)"),
        Field("posted_by", max_length=120),
        Field("lines", "lines"),
        Field("status", choices=("posted", "cancelled")),
        Field("cancel_reason", max_length=120),
    ),
    apply=apply_transaction,
    example={
        "ext_ref": "T0001",
        "member": "M0001",
        "type": "PURCHASE",
        "occurred_at": "2026-11-23T14:05:09Z",
        "lines": "SKU-1:2:18.50",
    },
)


# -- reward types ---------------------------------------------------------------------------

_MASTER_TYPES = {m.value.lower(): m for m in RewardMasterType}


def apply_reward_type(session: Session, values: Mapping[str, Any]) -> bool:
    row = {k: v for k, v in values.items() if k != "category"}
    category_changed = False
    if values.get("category"):
        category = _find(session, RewardCategory, RewardCategory.name, values["category"])
        if category is None:
            category = catalog.create(session, RewardCategory, name=values["category"])
            category_changed = True
        row["category_id"] = category.id
    if row.get("master_type") is not None:
        row["master_type"] = _MASTER_TYPES[row["master_type"]]
    for name in ("retail_value", "point_value"):
        if row.get(name) is not None and row[name] < 0:
            raise RowInvalid([(name, shown(row[name]), f"{name} must not be negative.")])
    _, changed = _upsert_reference(session, RewardType, RewardType.ext_ref, row, "ext_ref")
    return changed or category_changed


REWARD_TYPES = Kind(
    name="reward_types",
    title="Reward types",
    key="ext_ref",
    doc="The rewards a program offers, with their category (created when a row names one "
    "that does not exist yet, matched on its name). Read in full by the Reward Type sync "
    "(not change-logged).",
    fields=(
        _ref("ext_ref", required=True, doc="the reward type's external reference (the key)"),
        Field("name", required=True, max_length=120),
        Field("category", required=True, max_length=120, doc="reward category name"),
        Field("master_type", required=True, choices=tuple(_MASTER_TYPES)),
        Field("retail_value", "decimal"),
        Field("point_value", "decimal", doc="points a member spends to get it"),
        Field("valid_days", "int", doc="days an issued reward stays valid (empty: no expiry)"),
        Field("active", "bool"),
    ),
    apply=apply_reward_type,
    example={
        "ext_ref": "RW10",
        "name": "$10 off",
        "category": "Discounts",
        "master_type": "internal",
        "point_value": "1000",
    },
)


KINDS: dict[str, Kind] = {
    k.name: k for k in (LOCATIONS, PRODUCTS, MEMBERS, TRANSACTIONS, REWARD_TYPES)
}


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown kind {name!r} (kinds: {', '.join(KINDS)}).") from None
