"""What a Member Extended file holds: its record types and their fields, the words codes
are written as, the option and the file names.

Declarations only, kept apart from the SQL, because the settings page, the layout page,
the generated docs and the exporter all read them. Every record type's fields are listed
in the order ``records`` formats them into the line.
"""

from __future__ import annotations

from exporters.base import Column, Option, OptionKind, RecordType
from exporters.naming import NameRule
from loyalty.models import MemberTrigger
from loyalty.models.enums import AccountIdStatus, AddressType, LedgerKind, MemberStatus

POINTS = "points_setting"

# -- record types ---------------------------------------------------------------------------


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


def codes_for(points: bool) -> list[MemberTrigger]:
    """The record types a run writes: Point Change only with the Points Setting on."""
    return [t for t in MemberTrigger if points or t is not MemberTrigger.POINT_CHANGE]


# -- values written as words -----------------------------------------------------------------

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


# -- option and file names -------------------------------------------------------------------

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
