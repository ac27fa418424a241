"""member_extended — Member Extended Sync.

The product documents this layout only partly: the stored copy of its page stops inside
record type 1 (Core Trigger) after field 16. What it documents is binding: no header, a
record type code in column 1, one record per fired trigger, eleven record types in the
documented order, each record carrying the member's *current* values, booleans written
``True``/``False``, gender as a word, delivery methods as 1 (Email) / 2 (Text), and the two
file names. The rest of Core and record types 2-11 are designed here in the same style:
every record starts with its record type and the internal member id, then the values of
what the trigger is about, as they are when the run starts.

How it is built: the change log (kind ``member``, code = record type) in the run's window
is reduced in SQL to one row per trigger and member (per trigger, member and subject where
a record describes one of several things: an account id, a club, a ledger entry, a custom
field, a child), joined to the current rows, and each record type's SELECT formats its
whole line in the database. The eleven SELECTs are one UNION ALL ordered by member,
record type and subject, streamed to the writer, so memory stays flat.
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

from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Option,
    OptionKind,
    RecordType,
    Semantics,
    SyncType,
)
from exporters.naming import NameRule
from exporters.single_file import export_one_file
from exporters.sql import bigint_field, bool_field, date_field, decimal_field, int_field, text_field
from exporters.sql import timestamp_field as ts_field
from exporters.writer import DELIMITER
from loyalty.changefeed import Watermark, current_watermark, window
from loyalty.models import (
    AccountId,
    AccountIdType,
    ChangeKind,
    ChangeLog,
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
from loyalty.models.enums import (
    AccountIdStatus,
    AddressType,
    LedgerKind,
    MemberStatus,
    PhoneType,
)

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement
    from sqlalchemy.sql.selectable import Subquery

    from exporters.base import AnySelect

    Expr = ColumnElement[Any]

POINTS = "points_setting"

# -- layout ---------------------------------------------------------------------------------


def _c(header: str, label: str, type_: str, notes: str = "", documented: bool = False) -> Column:
    return Column(header, label, type_, notes, documented=documented)


def _head(code: str) -> tuple[Column, Column]:
    """The two fields every designed record type starts with. The product documents that
    column 1 of every record is its record type; the member id after it is designed here."""
    return (
        _c("RecordType", "Record Type", "Numeric(2)", f"always `{code}`", documented=True),
        _c("InternalMemberId", "Internal Member Id", "Numeric(10)", "platform-internal id"),
    )


TS = "Timestamp YYYY-MM-DD HH:MM:SS"
TS_NOTE = "in the database timezone"

CORE_DOCUMENTED = (
    _c("RecordType", "Record Type", "Numeric(1)", "always `1`", True),
    _c("InternalMemberId", "Internal Member Id", "Numeric(10)", "platform-internal id", True),
    _c("MemberPrefix", "Member Prefix", "String(60)", "", True),
    _c("FirstName", "First Name", "String(60)", "", True),
    _c("MiddleName", "Middle Name", "String(60)", "", True),
    _c("LastName", "Last Name", "String(60)", "", True),
    _c("MemberSuffix", "Member Suffic", "String(60)", "spelled 'Suffic' by the product", True),
    _c("BirthdateYear", "Birthdate Year", "Numeric(4)", "empty when unknown", True),
    _c("BirthdateMonth", "Birthdate Month", "Numeric(2)", "1-12, empty when unknown", True),
    _c("BirthdateDay", "Birthdate Day", "Numeric(2)", "1-31, empty when unknown", True),
    _c("Gender", "Gender", "String(10)", "`Male`, `Female` or `Undefined`", True),
    _c("DoNotEmail", "Do Not Email", "Boolean", "`True` / `False`", True),
    _c("DoNotText", "Do Not Text", "Boolean", "`True` / `False`", True),
    _c("DoNotPhone", "Do Not Phone", "Boolean", "`True` / `False`", True),
    _c("DoNotMail", "Do Not Mail", "Boolean", "`True` / `False`", True),
    _c(
        "PreferredDeliveryMethodForOffers",
        "Preferred Delivery Method for Offers",
        "Numeric(1)",
        "`1` = Email, `2` = Text, empty when not chosen",
        True,
    ),
)
CORE_DESIGNED = (
    _c(
        "PreferredDeliveryMethodForMessages",
        "Preferred Delivery Method for Messages",
        "Numeric(1)",
        "the product's cut-off field 17: `1` = Email, `2` = Text, empty when not chosen",
    ),
    _c("MemberStatus", "Member Status", "String(10)", "`Active`, `Inactive` or `Suspended`"),
    _c("MemberExternalReference", "Member External Reference", "String(20)"),
    _c("EnrollmentDate", "Enrollment Date", TS, TS_NOTE),
    _c("EnrollmentLocation", "Enrollment Location External Reference", "String(20)"),
    _c("EnrollmentSource", "Enrollment Source", "String(20)"),
    _c(
        "LastUpdatedDate",
        "Last Updated Date",
        TS,
        "when any of the member's exported data last changed; " + TS_NOTE,
    ),
)
POINTS_NOTE = "only with Points Setting on (absent, not empty, when off)"
CORE_POINTS = (
    _c("PointsBalance", "Points Balance", "Decimal(14,2)", POINTS_NOTE),
    _c("LifetimePointsEarned", "Lifetime Points Earned", "Decimal(14,2)", POINTS_NOTE),
    _c("LifetimePointsRedeemed", "Lifetime Points Redeemed", "Decimal(14,2)", POINTS_NOTE),
    _c("LifetimePointsExpired", "Lifetime Points Expired", "Decimal(14,2)", POINTS_NOTE),
)

ACCOUNT_COLUMNS = (
    *_head("2"),
    _c("AccountId", "Account Id", "String(60)", "the account id this record is about"),
    _c("AccountIdType", "Account Id Type External Reference", "String(20)"),
    _c(
        "AccountIdStatus",
        "Account Id Status",
        "String(20)",
        "`Active`, `Inactive` or `Inactive for Logins`",
    ),
    _c("AccountIdAddedDate", "Account Id Added Date", TS, TS_NOTE),
    _c(
        "IsPrimaryAccountId",
        "Is Primary Account Id",
        "Boolean",
        "`True` when this id is the member's primary account id now",
    ),
    _c(
        "PrimaryAccountId",
        "Member Primary Account Id",
        "String(60)",
        "the member's primary account id now (empty when no id is active)",
    ),
)
EMAIL_COLUMNS = (
    *_head("3"),
    _c("EmailAddress", "Email Address", "String(254)", "the primary email now; empty: none"),
)
PHONE_COLUMNS = (
    *_head("4"),
    _c("MobilePhone", "Mobile Phone", "String(30)", "as displayed in the app; empty: none"),
    _c("HomePhone", "Home Phone", "String(30)", "as displayed in the app; empty: none"),
    _c("WorkPhone", "Work Phone", "String(30)", "as displayed in the app; empty: none"),
    _c("OtherPhone", "Other Phone", "String(30)", "as displayed in the app; empty: none"),
)
ADDRESS_COLUMNS = (
    *_head("5"),
    _c(
        "AddressType",
        "Address Type",
        "String(10)",
        "of the primary address: `Home`, `Work` or `Other`; every field is empty when the "
        "member has no primary address",
    ),
    _c("AddressLine1", "Address Line 1", "String(120)"),
    _c("AddressLine2", "Address Line 2", "String(120)"),
    _c("AddressLine3", "Address Line 3", "String(120)"),
    _c("City", "City", "String(120)"),
    _c("RegionAbbreviation", "Region Abbreviation", "String(8)"),
    _c("PostalCode", "Postal Code", "String(14)"),
    _c("CountryAbbreviation", "Country Abbreviation", "String(2)", "ISO 3166-1 alpha-2"),
)
CLUB_COLUMNS = (
    *_head("6"),
    _c("ClubExternalReference", "Club External Reference", "String(20)"),
    _c("ClubName", "Club Name", "String(60)"),
    _c("ClubJoinDate", "Club Join Date", TS, "last (re)join; " + TS_NOTE),
    _c("ClubLeaveDate", "Club Leave Date", TS, "empty while the member is in the club"),
    _c("IsClubMember", "Is Club Member", "Boolean", "`True` while the member is in the club"),
)
DELETE_COLUMNS = (
    *_head("7"),
    _c("DeletedDate", "Deleted Date", TS, TS_NOTE),
    _c(
        "PrimaryAccountId",
        "Member Primary Account Id",
        "String(60)",
        "the deleted member's primary account id (ids stay on record)",
    ),
)
POINT_COLUMNS = (
    *_head("8"),
    _c("PointChangeId", "Point Change Id", "Numeric(19)", "ledger entry id, unique"),
    _c(
        "PointChangeType",
        "Point Change Type",
        "String(10)",
        "`Earn`, `Bonus`, `Redeem`, `Expire`, `Adjust`, `Reversal` or `Refund`",
    ),
    _c("Points", "Points", "Decimal(14,2)", "signed: negative for a debit"),
    _c("PointChangeDate", "Point Change Date", TS, TS_NOTE),
    _c("PointsExpireDate", "Points Expire Date", "Date YYYY-MM-DD", "credits only"),
    _c("TransactionId", "Transaction Id", "Numeric(10)", "internal id; empty when none"),
    _c("RewardId", "Reward Id", "Numeric(19)", "internal id; empty when none"),
    _c("LocationExternalReference", "Location External Reference", "String(20)"),
    _c("PointChangeDescription", "Point Change Description", "String(120)"),
    _c(
        "PointsBalance",
        "Points Balance",
        "Decimal(14,2)",
        "the member's balance when the run starts",
    ),
)
HOUSEHOLD_COLUMNS = (
    *_head("9"),
    _c("HouseholdId", "Household Id", "Numeric(10)", "empty when in no household"),
    _c("HouseholdExternalReference", "Household External Reference", "String(20)"),
    _c("HouseholdName", "Household Name", "String(60)"),
    _c("IsHeadOfHousehold", "Is Head of Household", "Boolean", "`True` / `False`"),
    _c(
        "HeadOfHouseholdMemberId",
        "Head of Household Internal Member Id",
        "Numeric(10)",
        "the household's head now; empty when it has none",
    ),
)
CUSTOM_FIELD_COLUMNS = (
    *_head("10"),
    _c("CustomFieldExternalReference", "Custom Field External Reference", "String(20)"),
    _c("CustomFieldName", "Custom Field Name", "String(60)"),
    _c(
        "CustomFieldValue",
        "Custom Field Value",
        "String(255)",
        "current value in canonical form (`2026-05-17`, `true`, `12.5`); empty: cleared",
    ),
)
CHILD_COLUMNS = (
    *_head("11"),
    _c("ChildId", "Child Id", "Numeric(10)", "internal id of the child record"),
    _c("ChildFirstName", "Child First Name", "String(60)"),
    _c("ChildLastName", "Child Last Name", "String(60)"),
    _c("ChildBirthdate", "Child Birthdate", "Date YYYY-MM-DD"),
    _c("ChildGender", "Child Gender", "String(10)", "`Male`, `Female` or `Undefined`"),
    _c("ChildRemoved", "Child Removed", "Boolean", "`True` once removed from the profile"),
)

RECORD_TYPES = (
    RecordType("1", "Core Trigger", (*CORE_DOCUMENTED, *CORE_DESIGNED, *CORE_POINTS), True),
    RecordType("2", "Account Id Trigger", ACCOUNT_COLUMNS, False),
    RecordType("3", "Email Trigger", EMAIL_COLUMNS, False),
    RecordType("4", "Phone Trigger", PHONE_COLUMNS, False),
    RecordType("5", "Address Trigger", ADDRESS_COLUMNS, False),
    RecordType("6", "Club Trigger", CLUB_COLUMNS, False),
    RecordType("7", "Delete Trigger", DELETE_COLUMNS, False),
    RecordType("8", "Point Change Trigger", POINT_COLUMNS, False),
    RecordType("9", "Head of Household Change Trigger", HOUSEHOLD_COLUMNS, False),
    RecordType("10", "Member Custom Field Change Trigger", CUSTOM_FIELD_COLUMNS, False),
    RecordType("11", "Member Child Trigger", CHILD_COLUMNS, False),
)

OPTIONS = (
    Option(
        POINTS,
        "Points Setting",
        OptionKind.BOOL,
        default=False,
        help="Names the file Standard_Member_With_Points_Sync_... (documented); also, as "
        "designed here, writes Point Change records (8) and appends the points balance and "
        "lifetime earned / redeemed / expired points to every Core record (1). Off: no "
        "point data at all.",
    ),
)

STANDARD = NameRule("Standard_Member_Sync_{stamp}.txt")
WITH_POINTS = NameRule("Standard_Member_With_Points_Sync_{stamp}.txt")

NOTES = (
    "Records: the change log's member triggers committed since the last created file "
    "(kind `member`, code = record type). Each record carries the member's values as they "
    "are when the run starts, not as they were when the trigger fired; every record starts "
    "with its record type and the internal member id. No header; the number of fields "
    "depends on the record type (see each record type below).",
    "Repeated triggers in one run: one record per member for Core (1), Email (3), Phone (4), "
    "Address (5), Delete (7) and Head of Household (9), however often they fired; one record "
    "per member and account id (2), club (6), custom field (10) and child (11); and one "
    "record per point movement (8), because each movement is an event of its own, not a "
    "state. An Account Id trigger with no account id (an id type's rank changed and moved "
    "the member's primary id) describes the member's primary account id now, and merges "
    "with a trigger of that same id.",
    "Deleted members: a member deleted when the run starts gets only the Delete record (7), "
    "written when the deletion is in this run's window; their other triggers in the window "
    "are dropped, since the receiver removes the member anyway.",
    "Order: by internal member id, then record type (so a new member's Core record comes "
    "before its other records), then the subject: account id row, club, ledger entry "
    "(chronological), custom field or child, by internal id.",
    "Points Setting: off, the file is `Standard_Member_Sync_YYYYMMDDHHMMSS.txt`, Point "
    "Change triggers are not written and Core has 23 fields. On, the file is "
    "`Standard_Member_With_Points_Sync_YYYYMMDDHHMMSS.txt`, every point movement is a "
    "Point Change record (8) carrying the member's balance when the run starts, and Core has 27 "
    "fields (points balance and lifetime earned / redeemed / expired appended). Point "
    "movements of runs made while the setting was off are not sent later.",
    "First run: a new sync's first file holds every member trigger the change log holds "
    "(the initial load of the captured history); later files hold what changed since the "
    "previous created file. Nothing is lost or repeated between consecutive files, also when "
    "changes commit while a file is being built.",
    "Values: timestamps are in the database timezone, `YYYY-MM-DD HH:MM:SS`; dates "
    "`YYYY-MM-DD`; points with two decimals; phone numbers as displayed in the app; a `|` "
    "in a value is written `¦`, line breaks and tabs as spaces. The file-name timestamp is "
    "the run's start in the sync's timezone. One file per run (the product documents no "
    "splitting); a run without triggers writes an empty file.",
)


# -- SQL helpers ----------------------------------------------------------------------------


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


STATUS_WORDS = {
    MemberStatus.ACTIVE.value: "Active",
    MemberStatus.INACTIVE.value: "Inactive",
    MemberStatus.SUSPENDED.value: "Suspended",
    MemberStatus.DELETED.value: "Deleted",
}
ACCOUNT_STATUS_WORDS = {
    AccountIdStatus.ACTIVE.value: "Active",
    AccountIdStatus.INACTIVE.value: "Inactive",
    AccountIdStatus.LOGIN_INACTIVE.value: "Inactive for Logins",
}
ADDRESS_WORDS = {
    AddressType.HOME.value: "Home",
    AddressType.WORK.value: "Work",
    AddressType.OTHER.value: "Other",
}
LEDGER_WORDS = {
    LedgerKind.EARN.value: "Earn",
    LedgerKind.BONUS.value: "Bonus",
    LedgerKind.REDEEM.value: "Redeem",
    LedgerKind.EXPIRE.value: "Expire",
    LedgerKind.ADJUST.value: "Adjust",
    LedgerKind.REVERSAL.value: "Reversal",
    LedgerKind.REFUND.value: "Refund",
}

# Record types whose records describe one of several things of a member (the change log's
# subject); the others are one record per member.
PER_SUBJECT = (
    MemberTrigger.ACCOUNT_ID,
    MemberTrigger.CLUB,
    MemberTrigger.POINT_CHANGE,
    MemberTrigger.CUSTOM_FIELD,
    MemberTrigger.CHILD,
)


def codes_for(points: bool) -> list[MemberTrigger]:
    """The record types a run writes: Point Change only with the Points Setting on."""
    return [t for t in MemberTrigger if points or t is not MemberTrigger.POINT_CHANGE]


def _fired_rows(condition: Any, trigger: MemberTrigger) -> Subquery:
    """One row per member (per member and subject for PER_SUBJECT) whose ``trigger`` fired
    in the window.

    One subquery per record type rather than one shared CTE: the planner then estimates
    each from the change log's own statistics (a CTE's filtered rows it guesses, and at a
    million rows the guess picks nested loops where hash joins are several times faster).
    """
    per_subject = trigger in PER_SUBJECT
    subject = ChangeLog.subject_id if per_subject else literal_column("NULL", BigInteger)
    grouping = (
        (ChangeLog.member_id, ChangeLog.subject_id) if per_subject else (ChangeLog.member_id,)
    )
    return (
        select(ChangeLog.member_id.label("member_id"), subject.label("subject_id"))
        .where(
            condition,
            ChangeLog.kind == ChangeKind.MEMBER,
            ChangeLog.code == trigger.value,
            ChangeLog.member_id.is_not(None),
        )
        .group_by(*grouping)
        .subquery(f"fired_{trigger.value}")
    )


class _Builder:
    """The SELECT of each record type over the window's changes, for one run."""

    def __init__(self, condition: Any, zone: str, points: bool) -> None:
        self.condition = condition  # the change-log window
        self.zone = zone
        self.points = points
        self._rows: dict[MemberTrigger, Subquery] = {}

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

    def rows(self, trigger: MemberTrigger) -> Subquery:
        if trigger not in self._rows:
            self._rows[trigger] = _fired_rows(self.condition, trigger)
        return self._rows[trigger]

    def fired(self, trigger: MemberTrigger, *, deleted: bool = False) -> Any:
        """Join condition: this trigger's rows of the window, with their (current) member."""
        member_state = Member.deleted_at.is_not(None) if deleted else Member.deleted_at.is_(None)
        return and_(self.rows(trigger).c.member_id == Member.id, member_state)

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
            .select_from(self.rows(MemberTrigger.CORE))
            .join(Member, self.fired(MemberTrigger.CORE))
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
                self.rows(MemberTrigger.ACCOUNT_ID).c.member_id.label("member_id"),
                func.coalesce(self.rows(MemberTrigger.ACCOUNT_ID).c.subject_id, primary_row).label(
                    "account_row"
                ),
            )
            .select_from(self.rows(MemberTrigger.ACCOUNT_ID))
            .join(Member, self.fired(MemberTrigger.ACCOUNT_ID))
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
            .select_from(self.rows(MemberTrigger.EMAIL))
            .join(Member, self.fired(MemberTrigger.EMAIL))
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
            .select_from(self.rows(MemberTrigger.PHONE))
            .join(Member, self.fired(MemberTrigger.PHONE))
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
            .select_from(self.rows(MemberTrigger.ADDRESS))
            .join(Member, self.fired(MemberTrigger.ADDRESS))
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
            .select_from(self.rows(MemberTrigger.CLUB))
            .join(Member, self.fired(MemberTrigger.CLUB))
            .join(Club, Club.id == self.rows(MemberTrigger.CLUB).c.subject_id)
            .join(
                ClubMembership,
                and_(ClubMembership.club_id == Club.id, ClubMembership.member_id == Member.id),
            )
        )

    def delete(self) -> AnySelect:
        fields = [self.ts(Member.deleted_at), text_field(Member.primary_account_id)]
        return (
            self.record(MemberTrigger.DELETE, literal_column("0", BigInteger), fields)
            .select_from(self.rows(MemberTrigger.DELETE))
            .join(Member, self.fired(MemberTrigger.DELETE, deleted=True))
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
            .select_from(self.rows(MemberTrigger.POINT_CHANGE))
            .join(Member, self.fired(MemberTrigger.POINT_CHANGE))
            .join(
                entry,
                and_(
                    entry.id == self.rows(MemberTrigger.POINT_CHANGE).c.subject_id,
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
            .select_from(self.rows(MemberTrigger.HEAD_OF_HOUSEHOLD))
            .join(Member, self.fired(MemberTrigger.HEAD_OF_HOUSEHOLD))
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
            .select_from(self.rows(MemberTrigger.CUSTOM_FIELD))
            .join(Member, self.fired(MemberTrigger.CUSTOM_FIELD))
            .join(definition, definition.id == self.rows(MemberTrigger.CUSTOM_FIELD).c.subject_id)
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
            .select_from(self.rows(MemberTrigger.CHILD))
            .join(Member, self.fired(MemberTrigger.CHILD))
            .join(
                child,
                and_(
                    child.id == self.rows(MemberTrigger.CHILD).c.subject_id,
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


def _run_query(ctx: ExportContext, until: Watermark) -> AnySelect:
    dialect = ctx.session.get_bind().dialect.name
    points = bool(ctx.options.get(POINTS))
    return query(ctx.watermark, until, dialect, ctx.database_timezone, points)


def export(ctx: ExportContext) -> ExportResult:
    until = current_watermark(ctx.session)
    rule = WITH_POINTS if ctx.options.get(POINTS) else STANDARD
    return export_one_file(
        ctx,
        _run_query(ctx, until),
        name_for=rule.namer(ctx, numbered=False),
        header=None,
        watermark=until,
    )


SYNC_TYPE = SyncType(
    key="member_extended",
    label="Member Extended Sync",
    description="Member changes since the last file, one record per trigger (core data, "
    "account ids, email, phones, address, clubs, deletion, point changes, household, "
    "custom fields, children), each with the member's current values.",
    semantics=Semantics.INCREMENTAL,
    file_kinds=(
        FileKind(
            key="",
            label="Member file",
            columns=(),
            header=False,
            name_pattern="Standard_Member_Sync_YYYYMMDDHHMMSS.txt; with Points Setting: "
            "Standard_Member_With_Points_Sync_YYYYMMDDHHMMSS.txt",
            record_types=RECORD_TYPES,
        ),
    ),
    export=export,
    options=OPTIONS,
    doc_status="partial",
    notes=NOTES,
    reference_queries=lambda ctx: [_run_query(ctx, current_watermark(ctx.session))],
)
