"""The fields of each Transaction Sync file kind, as the layout page and the docs show them.

Only field 1 of the Issued file (App Transaction Id) is documented by the product; every
other field is designed here (``documented=False``), in the style of the documented
layouts. Kept apart from ``layout`` because the eight kinds' fields are most of the
declaration; the order of each tuple is the order of the columns ``queries`` selects.
"""

from __future__ import annotations

from exporters import custom_columns
from exporters.base import Column
from exporters.types.transaction.layout import (
    CANCELLED,
    CUSTOM_FIELD,
    ISSUED,
    POINT_EXPIRATION,
    PRODUCT_LEVEL,
    PROMO_CODE_BONUS,
    TRANSACTION_TYPE,
    TRANSACTIONAL_BONUS,
)

DB_TIME = "Date/Time YYYY-MM-DD HH:MM:SS"
DECIMAL = "Decimal(14,2)"


def _designed(header: str, label: str, type_: str, notes: str = "") -> Column:
    return Column(header, label, type_, notes, documented=False)


APP_TRANSACTION_ID = Column(
    "AppTransactionId", "App Transaction Id", "Numeric(10)", "platform-internal transaction id"
)
TXN_ID = _designed(
    "AppTransactionId", "App Transaction Id", "Numeric(10)", "platform-internal transaction id"
)
MEMBER_ID = _designed("MemberId", "Member Id", "Numeric(10)", "platform-internal member id")
ACCOUNT_ID = _designed(
    "MemberAccountId",
    "Member Account Id",
    "String(60)",
    "the member's primary account id now (most recent active id of the highest rank)",
)
TXN_REF = _designed(
    "TransactionExternalReference",
    "Transaction External Reference",
    "String(20)",
    "the point-of-sale reference (receipt number); empty when none",
)
TYPE_REF = _designed(
    "TransactionTypeExternalReference", "Transaction Type External Reference", "String(20)"
)
LOCATION_ID = _designed(
    "LocationId", "Location Id", "Numeric(10)", "-1 when the transaction has no location"
)
LOCATION_REF = _designed(
    "LocationExternalReference",
    "Location External Reference",
    "String(20)",
    "empty when the transaction has no location",
)
TXN_TIME = _designed(
    "TransactionTimestamp",
    "Transaction Timestamp (Database Timezone)",
    DB_TIME,
    "when the transaction happened, in the database timezone",
)
AMOUNT = _designed(
    "TransactionAmount", "Transaction Amount", DECIMAL, "retail value of the transaction"
)
BONUS_ID = _designed("BonusId", "Bonus Id", "Numeric(19)", "platform-internal bonus id")
PROMOTION_ID = _designed(
    "PromotionId", "Promotion Id", "Numeric(10)", "empty when the bonus has no promotion"
)
PROMOTION_REF = _designed(
    "PromotionExternalReference",
    "Promotion External Reference",
    "String(20)",
    "empty when the bonus has no promotion",
)
BONUS_NAME = _designed(
    "BonusName", "Bonus Name", "String(120)", "the promotion's name when the bonus was awarded"
)
BONUS_POINTS = _designed("BonusPoints", "Bonus Points", DECIMAL)
AWARDED = _designed(
    "AwardedTimestamp", "Awarded Timestamp (Database Timezone)", DB_TIME, "when it was awarded"
)
BONUS_CANCELLED = _designed(
    "Cancelled",
    "Cancelled",
    "Boolean",
    "True / False: the bonus is cancelled now (its transaction was cancelled)",
)
BONUS_CANCELLED_TIME = _designed(
    "CancelledTimestamp",
    "Cancelled Timestamp (Database Timezone)",
    DB_TIME,
    "empty when not cancelled",
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ISSUED: (
        APP_TRANSACTION_ID,
        TXN_REF,
        MEMBER_ID,
        ACCOUNT_ID,
        _designed("TransactionTypeId", "Transaction Type Id", "Numeric(10)"),
        TYPE_REF,
        LOCATION_ID,
        LOCATION_REF,
        TXN_TIME,
        _designed(
            "SourceDate",
            "Source Date",
            "Date YYYY-MM-DD",
            "the transaction's date in its location's local time",
        ),
        _designed(
            "PostedTimestamp",
            "Posted Timestamp (Database Timezone)",
            DB_TIME,
            "when the transaction was posted to the program",
        ),
        AMOUNT,
        _designed(
            "BasePoints",
            "Base Points",
            DECIMAL,
            "base points the transaction earned (bonuses are in the bonus files)",
        ),
        _designed(
            "BasketLineCount",
            "Basket Line Count",
            "Numeric(5)",
            "number of its basket lines (rows in the product-level file)",
        ),
        _designed(
            "PostedBy", "Posted By", "String(120)", "user or process that posted it; may be empty"
        ),
        _designed(
            "Cancelled",
            "Cancelled",
            "Boolean",
            "True / False: cancelled now (True only for a transaction issued and cancelled "
            "since the last run, when such transactions are included)",
        ),
    ),
    PRODUCT_LEVEL: (
        TXN_ID,
        _designed(
            "LineNumber", "Line Number", "Numeric(5)", "1, 2, ... within the transaction's basket"
        ),
        MEMBER_ID,
        _designed(
            "ProductItemId",
            "Product Item Id",
            "Numeric(10)",
            "empty when the line has no product item",
        ),
        _designed(
            "ProductItemExternalReference",
            "Product Item External Reference",
            "String(20)",
            "the SKU; empty when no product item",
        ),
        _designed("ProductItemName", "Product Item Name", "String(120)"),
        _designed("Quantity", "Quantity", "Numeric(10)", "negative for a returned item"),
        _designed("UnitPrice", "Unit Price", DECIMAL, "0.00 for Zero Retail items"),
        _designed("LineAmount", "Line Amount", DECIMAL, "quantity x unit price"),
        _designed("LinePoints", "Line Points", DECIMAL, "base points of the line"),
    ),
    CANCELLED: (
        TXN_ID,
        TXN_REF,
        MEMBER_ID,
        ACCOUNT_ID,
        TYPE_REF,
        LOCATION_ID,
        LOCATION_REF,
        TXN_TIME,
        _designed(
            "CancelledTimestamp",
            "Cancelled Timestamp (Database Timezone)",
            DB_TIME,
            "when the transaction was cancelled",
        ),
        _designed("CancelReason", "Cancel Reason", "String(120)", "may be empty"),
        AMOUNT,
        _designed("BasePointsReversed", "Base Points Reversed", DECIMAL, "base points taken back"),
        _designed(
            "BonusPointsReversed",
            "Bonus Points Reversed",
            DECIMAL,
            "transactional and promo code bonus points of the transaction taken back",
        ),
    ),
    POINT_EXPIRATION: (
        _designed(
            "PointExpirationId",
            "Point Expiration Id",
            "Numeric(19)",
            "platform-internal id of the expiration (point ledger entry)",
        ),
        MEMBER_ID,
        ACCOUNT_ID,
        _designed("ExpiredPoints", "Expired Points", DECIMAL, "positive number of points expired"),
        _designed(
            "ExpirationTimestamp",
            "Expiration Timestamp (Database Timezone)",
            DB_TIME,
            "when the points expired",
        ),
        _designed(
            "Description",
            "Description",
            "String(120)",
            "e.g. Automatic point expiration; may be empty",
        ),
    ),
    TRANSACTIONAL_BONUS: (
        BONUS_ID,
        TXN_ID,
        MEMBER_ID,
        ACCOUNT_ID,
        PROMOTION_ID,
        PROMOTION_REF,
        BONUS_NAME,
        BONUS_POINTS,
        AWARDED,
        BONUS_CANCELLED,
        BONUS_CANCELLED_TIME,
    ),
    PROMO_CODE_BONUS: (
        BONUS_ID,
        _designed(
            "AppTransactionId",
            "App Transaction Id",
            "Numeric(10)",
            "the transaction the code was entered with; empty when entered without one",
        ),
        MEMBER_ID,
        ACCOUNT_ID,
        _designed("PromoCode", "Promo Code", "String(40)"),
        PROMOTION_ID,
        PROMOTION_REF,
        BONUS_NAME,
        BONUS_POINTS,
        AWARDED,
        BONUS_CANCELLED,
        BONUS_CANCELLED_TIME,
    ),
    TRANSACTION_TYPE: (
        _designed("TransactionTypeId", "Transaction Type Id", "Numeric(10)"),
        TYPE_REF,
        _designed("TransactionTypeName", "Transaction Type Name", "String(60)"),
        _designed("TransactionTypeDescription", "Transaction Type Description", "String(255)"),
        _designed("EarnsPoints", "Earns Points", "Boolean", "True / False"),
        _designed("CountsForRfm", "Counts For RFM", "Boolean", "True / False"),
        _designed(
            "TransactionCount",
            "Transaction Count",
            "Numeric(10)",
            "transactions of this type in this run's Issued files",
        ),
        _designed("TotalAmount", "Total Amount", DECIMAL, "sum of their Transaction Amount"),
        _designed("TotalBasePoints", "Total Base Points", DECIMAL, "sum of their Base Points"),
    ),
    CUSTOM_FIELD: (
        TXN_ID,
        MEMBER_ID,
        custom_columns.column_doc("transaction", "Always", False),
    ),
}
