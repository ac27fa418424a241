"""Enumerations of the loyalty domain.

String values are what the database stores (a CHECK constraint keeps them honest, see
``loyalty.db.str_enum``). Where a layout writes a word (Gender ``Male``, Reward
Master Type ``Gift Card``) the stored value *is* that word, so exporters write it as is.
"""

from __future__ import annotations

import enum


class Gender(enum.StrEnum):
    MALE = "Male"
    FEMALE = "Female"
    UNDEFINED = "Undefined"


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    # Deleted members keep their row (ids are referenced by history); Member Extended
    # writes a Delete Trigger record for them, cumulative syncs leave them out.
    DELETED = "deleted"


class DeliveryMethod(enum.IntEnum):
    """Preferred delivery method codes of Member Extended (``1`` = Email, ``2`` = Text)."""

    EMAIL = 1
    TEXT = 2


class AccountIdStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # invalid for any use
    # "Inactive for Logins Only": still credited with transactions, but not "active" for
    # the primary account id rule, which asks for an active id.
    LOGIN_INACTIVE = "login_inactive"


# Rank for Display of an account id type: 1 is the primary rank (sync-platform.md section 9).
PRIMARY_RANK = 1


class PhoneType(enum.StrEnum):
    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    OTHER = "other"


class AddressType(enum.StrEnum):
    HOME = "home"
    WORK = "work"
    OTHER = "other"


class CustomFieldEntity(enum.StrEnum):
    MEMBER = "member"
    TRANSACTION = "transaction"
    LOCATION = "location"
    PRODUCT = "product"
    REWARD = "reward"


class CustomFieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


class LedgerKind(enum.StrEnum):
    EARN = "earn"  # base points of a transaction
    BONUS = "bonus"  # transactional or promo code bonus
    REDEEM = "redeem"  # points spent on a reward
    EXPIRE = "expire"  # points expired
    ADJUST = "adjust"  # manual adjustment (either sign)
    REVERSAL = "reversal"  # a cancelled transaction or bonus takes its points back
    REFUND = "refund"  # a cancelled reward gives its points back


class RewardMasterType(enum.StrEnum):
    """The six Reward Master Type values of the Reward Type Sync, written as stored."""

    CHOICE = "Choice"
    FORCED = "Forced"
    GIFT_CARD = "Gift Card"
    INTERNAL = "Internal"
    RECURRING = "Recurring"
    VARIABLE = "Variable"


class RewardStatus(enum.StrEnum):
    ACTIVE = "active"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RewardEventKind(enum.StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"
    REDEMPTION_REVERSED = "redemption_reversed"
    EXPIRED = "expired"
    EXPIRATION_CHANGED = "expiration_changed"


class TransactionStatus(enum.StrEnum):
    POSTED = "posted"
    CANCELLED = "cancelled"


class BonusKind(enum.StrEnum):
    TRANSACTIONAL = "transactional"  # from a real-time transaction bonus promotion
    PROMO_CODE = "promo_code"


class QuestionKind(enum.StrEnum):
    """One Survey Sync file per kind."""

    SURVEY = "survey"
    TRIVIA = "trivia"
    POLL = "poll"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseAction(enum.StrEnum):
    """Case Sync action codes, exactly as the Case Updates File writes them."""

    OPENED = "OPEN"
    CLOSED = "CLSD"
    REOPENED = "REOP"
    ADDED_DESCRIPTOR = "ADDD"
    REMOVED_DESCRIPTOR = "RMVD"
    CHANGED_CATEGORY = "CCAT"
    CHANGED_QUEUE = "CQUE"
    TOUCHED = "TOCH"
