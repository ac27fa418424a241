"""The SQL of a Member Extended file: one SELECT per record type, one UNION ALL in all.

Each record type's SELECT joins the members whose trigger fired (``triggers``) to their
current rows and formats its whole line in the database, fields in the order ``layout``
declares them. The SELECTs are one UNION ALL ordered by member, record type and
subject, streamed to the writer, so memory stays flat however many triggers fired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from exporters.sql import (
    Expr,
    bigint_field,
    bool_field,
    date_field,
    decimal_field,
    int_field,
    text_field,
)
from exporters.sql import timestamp_field as ts_field
from exporters.types.member_extended.layout import (
    ACCOUNT_STATUS_WORDS,
    ADDRESS_WORDS,
    LEDGER_WORDS,
    STATUS_WORDS,
    codes_for,
)
from exporters.types.member_extended.triggers import FiredTriggers
from exporters.writer import DELIMITER
from loyalty.changefeed import Watermark, window
from loyalty.models import (
    AccountId,
    AccountIdType,
    Club,
    ClubMembership,
    CustomFieldDefinition,
    Household,
    Location,
    Member,
    MemberAddress,
    MemberChild,
    MemberCustomValue,
    MemberPhone,
    MemberTrigger,
    PointBalance,
    PointLedgerEntry,
)
from loyalty.models.enums import PhoneType

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from exporters.base import AnySelect


def _joined(fields: Sequence[Expr]) -> Expr:
    """The record's line, built in SQL: formatted fields joined by the delimiter."""
    line: Expr = fields[0]
    for field in fields[1:]:
        line = line.concat(literal(DELIMITER, String)).concat(field)
    return line


def _word(column: Any, words: Mapping[str, str]) -> Expr:
    """A stored code written as the layout's word ('' for NULL or an unknown code)."""
    return case(
        *((column == code, literal(word, String)) for code, word in words.items()),
        else_=literal("", String),
    )


class _Builder:
    """The SELECT of each record type over the window's changes, for one run."""

    def __init__(self, condition: ColumnElement[bool], zone: str, points: bool) -> None:
        self.fired = FiredTriggers(condition)
        self.zone = zone
        self.points = points

    def ts(self, column: Any) -> Expr:
        return ts_field(column, self.zone)

    def record(self, trigger: MemberTrigger, subject_key: Any, fields: Sequence[Expr]) -> AnySelect:
        """member id, record type and subject (the sort keys), and the formatted line."""
        code = trigger.value
        line = _joined([literal_column(f"'{code}'", String), int_field(Member.id), *fields])
        return select(
            Member.id.label("member_id"),
            literal_column(code, Integer).label("record_type"),
            cast(subject_key, BigInteger).label("subject_key"),
            line.label("line"),
        )

    # -- one method per record type --------------------------------------------------------

    def core(self) -> AnySelect:
        location = aliased(Location)
        fields = [
            text_field(Member.prefix),
            text_field(Member.first_name),
            text_field(Member.middle_name),
            text_field(Member.last_name),
            text_field(Member.suffix),
            int_field(Member.birth_year),
            int_field(Member.birth_month),
            int_field(Member.birth_day),
            text_field(Member.gender),
            bool_field(Member.do_not_email),
            bool_field(Member.do_not_text),
            bool_field(Member.do_not_phone),
            bool_field(Member.do_not_mail),
            int_field(Member.offer_delivery),
            int_field(Member.message_delivery),
            _word(Member.status, STATUS_WORDS),
            text_field(Member.ext_ref),
            self.ts(Member.enrolled_at),
            text_field(location.ext_ref),
            text_field(Member.enrolment_source),
            self.ts(Member.updated_at),
        ]
        if self.points:
            fields += [
                decimal_field(func.coalesce(PointBalance.balance, 0)),
                decimal_field(func.coalesce(PointBalance.lifetime_earned, 0)),
                decimal_field(func.coalesce(PointBalance.lifetime_redeemed, 0)),
                decimal_field(func.coalesce(PointBalance.lifetime_expired, 0)),
            ]
        statement = (
            self.record(MemberTrigger.CORE, literal_column("0", BigInteger), fields)
            .select_from(self.fired.rows(MemberTrigger.CORE))
            .join(Member, self.fired.members(MemberTrigger.CORE))
            .outerjoin(location, location.id == Member.enrolment_location_id)
        )
        if self.points:
            statement = statement.outerjoin(PointBalance, PointBalance.member_id == Member.id)
        return statement

    def account_id(self) -> AnySelect:
        # A trigger without a subject (an id type's rank moved the primary id) stands for
        # the member's primary account id now; DISTINCT merges it with that id's own trigger.
        primary_row = (
            select(AccountId.id)
            .where(AccountId.value == Member.primary_account_id)
            .correlate(Member)
            .scalar_subquery()
        )
        rows = (
            select(
                self.fired.rows(MemberTrigger.ACCOUNT_ID).c.member_id.label("member_id"),
                func.coalesce(
                    self.fired.rows(MemberTrigger.ACCOUNT_ID).c.subject_id, primary_row
                ).label("account_row"),
            )
            .select_from(self.fired.rows(MemberTrigger.ACCOUNT_ID))
            .join(Member, self.fired.members(MemberTrigger.ACCOUNT_ID))
            .distinct()
            .subquery("account_changes")
        )
        fields = [
            text_field(AccountId.value),
            text_field(AccountIdType.ext_ref),
            _word(AccountId.status, ACCOUNT_STATUS_WORDS),
            self.ts(AccountId.added_at),
            case(
                (AccountId.value == Member.primary_account_id, literal("True", String)),
                else_=literal("False", String),
            ),
            text_field(Member.primary_account_id),
        ]
        return (
            self.record(MemberTrigger.ACCOUNT_ID, AccountId.id, fields)
            .select_from(rows)
            .join(Member, Member.id == rows.c.member_id)
            .join(
                AccountId,
                and_(AccountId.id == rows.c.account_row, AccountId.member_id == Member.id),
            )
            .join(AccountIdType, AccountIdType.id == AccountId.type_id)
        )

    def email(self) -> AnySelect:
        return (
            self.record(
                MemberTrigger.EMAIL,
                literal_column("0", BigInteger),
                [text_field(Member.primary_email)],
            )
            .select_from(self.fired.rows(MemberTrigger.EMAIL))
            .join(Member, self.fired.members(MemberTrigger.EMAIL))
        )

    def phone(self) -> AnySelect:
        phones = {kind: aliased(MemberPhone) for kind in PhoneType}
        order = (PhoneType.MOBILE, PhoneType.HOME, PhoneType.WORK, PhoneType.OTHER)
        statement = (
            self.record(
                MemberTrigger.PHONE,
                literal_column("0", BigInteger),
                [text_field(phones[kind].number) for kind in order],
            )
            .select_from(self.fired.rows(MemberTrigger.PHONE))
            .join(Member, self.fired.members(MemberTrigger.PHONE))
        )
        for kind in order:
            phone = phones[kind]
            statement = statement.outerjoin(
                phone, and_(phone.member_id == Member.id, phone.phone_type == kind)
            )
        return statement

    def address(self) -> AnySelect:
        a = MemberAddress
        fields = [
            _word(a.address_type, ADDRESS_WORDS),
            text_field(a.line1),
            text_field(a.line2),
            text_field(a.line3),
            text_field(a.city),
            text_field(a.region),
            text_field(a.postal_code),
            text_field(a.country),
        ]
        return (
            self.record(MemberTrigger.ADDRESS, literal_column("0", BigInteger), fields)
            .select_from(self.fired.rows(MemberTrigger.ADDRESS))
            .join(Member, self.fired.members(MemberTrigger.ADDRESS))
            .outerjoin(a, and_(a.member_id == Member.id, a.is_primary.is_(True)))
        )

    def club(self) -> AnySelect:
        fields = [
            text_field(Club.ext_ref),
            text_field(Club.name),
            self.ts(ClubMembership.joined_at),
            self.ts(ClubMembership.left_at),
            bool_field(ClubMembership.left_at.is_(None)),
        ]
        return (
            self.record(MemberTrigger.CLUB, Club.id, fields)
            .select_from(self.fired.rows(MemberTrigger.CLUB))
            .join(Member, self.fired.members(MemberTrigger.CLUB))
            .join(Club, Club.id == self.fired.rows(MemberTrigger.CLUB).c.subject_id)
            .join(
                ClubMembership,
                and_(ClubMembership.club_id == Club.id, ClubMembership.member_id == Member.id),
            )
        )

    def delete(self) -> AnySelect:
        fields = [self.ts(Member.deleted_at), text_field(Member.primary_account_id)]
        return (
            self.record(MemberTrigger.DELETE, literal_column("0", BigInteger), fields)
            .select_from(self.fired.rows(MemberTrigger.DELETE))
            .join(Member, self.fired.members(MemberTrigger.DELETE, deleted=True))
        )

    def point_change(self) -> AnySelect:
        entry = PointLedgerEntry
        fields = [
            bigint_field(entry.id),
            _word(entry.kind, LEDGER_WORDS),
            decimal_field(entry.points),
            self.ts(entry.occurred_at),
            date_field(entry.expires_on),
            bigint_field(entry.transaction_id),
            bigint_field(entry.reward_id),
            text_field(Location.ext_ref),
            text_field(entry.description),
            decimal_field(func.coalesce(PointBalance.balance, 0)),
        ]
        return (
            self.record(MemberTrigger.POINT_CHANGE, entry.id, fields)
            .select_from(self.fired.rows(MemberTrigger.POINT_CHANGE))
            .join(Member, self.fired.members(MemberTrigger.POINT_CHANGE))
            .join(
                entry,
                and_(
                    entry.id == self.fired.rows(MemberTrigger.POINT_CHANGE).c.subject_id,
                    entry.member_id == Member.id,
                ),
            )
            .outerjoin(Location, Location.id == entry.location_id)
            .outerjoin(PointBalance, PointBalance.member_id == Member.id)
        )

    def household(self) -> AnySelect:
        head = aliased(Member)
        fields = [
            int_field(Household.id),
            text_field(Household.ext_ref),
            text_field(Household.name),
            bool_field(Member.is_household_head),
            int_field(head.id),
        ]
        return (
            self.record(MemberTrigger.HEAD_OF_HOUSEHOLD, literal_column("0", BigInteger), fields)
            .select_from(self.fired.rows(MemberTrigger.HEAD_OF_HOUSEHOLD))
            .join(Member, self.fired.members(MemberTrigger.HEAD_OF_HOUSEHOLD))
            .outerjoin(Household, Household.id == Member.household_id)
            .outerjoin(
                head,
                and_(head.household_id == Household.id, head.is_household_head.is_(True)),
            )
        )

    def custom_field(self) -> AnySelect:
        definition = CustomFieldDefinition
        value = MemberCustomValue
        fields = [
            text_field(definition.ext_ref),
            text_field(definition.name),
            text_field(value.value),
        ]
        return (
            self.record(MemberTrigger.CUSTOM_FIELD, definition.id, fields)
            .select_from(self.fired.rows(MemberTrigger.CUSTOM_FIELD))
            .join(Member, self.fired.members(MemberTrigger.CUSTOM_FIELD))
            .join(
                definition,
                definition.id == self.fired.rows(MemberTrigger.CUSTOM_FIELD).c.subject_id,
            )
            .outerjoin(value, and_(value.member_id == Member.id, value.field_id == definition.id))
        )

    def child(self) -> AnySelect:
        child = MemberChild
        fields = [
            int_field(child.id),
            text_field(child.first_name),
            text_field(child.last_name),
            date_field(child.birth_date),
            text_field(child.gender),
            bool_field(child.removed_at.is_not(None)),
        ]
        return (
            self.record(MemberTrigger.CHILD, child.id, fields)
            .select_from(self.fired.rows(MemberTrigger.CHILD))
            .join(Member, self.fired.members(MemberTrigger.CHILD))
            .join(
                child,
                and_(
                    child.id == self.fired.rows(MemberTrigger.CHILD).c.subject_id,
                    child.member_id == Member.id,
                ),
            )
        )

    def all(self) -> list[AnySelect]:
        """One SELECT per record type this run writes."""
        build = {
            MemberTrigger.CORE: self.core,
            MemberTrigger.ACCOUNT_ID: self.account_id,
            MemberTrigger.EMAIL: self.email,
            MemberTrigger.PHONE: self.phone,
            MemberTrigger.ADDRESS: self.address,
            MemberTrigger.CLUB: self.club,
            MemberTrigger.DELETE: self.delete,
            MemberTrigger.POINT_CHANGE: self.point_change,
            MemberTrigger.HEAD_OF_HOUSEHOLD: self.household,
            MemberTrigger.CUSTOM_FIELD: self.custom_field,
            MemberTrigger.CHILD: self.child,
        }
        return [build[trigger]() for trigger in codes_for(self.points)]


def query(
    since: Watermark | None, until: Watermark, dialect: str, zone: str, points: bool
) -> AnySelect:
    """The file's records, one formatted line per row, in the file's order."""
    builder = _Builder(window(since, until, dialect), zone, points)
    records = union_all(*builder.all()).subquery("records")
    return select(records.c.line).order_by(
        records.c.member_id, records.c.record_type, records.c.subject_key
    )
