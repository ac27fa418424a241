"""The change log: one append-only row per change an incremental sync may export.

Written by the domain services in the same transaction as the change it records, so a
change and its log row commit (or roll back) together. Each row says *what kind* of thing
changed (``kind``), *which trigger* fired (``code``: the record type a layout writes, or
a four-letter code), for which member, and which rows it concerns (``subject_id``,
``subject2_id``; meanings per kind/code are in ``SUBJECTS`` and docs/domain.md).
Exports read the log through ``loyalty.changefeed``.

``txid`` is the PostgreSQL transaction id (``pg_current_xact_id()``, a 64-bit xid8 that
never wraps) of the writing transaction, filled by a server-side default; SQLite has no
use for it and leaves it NULL. See changefeed.py for why it makes the watermark exact.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, BigInteger, FetchedValue, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import BigId

# The server default of change_log.txid on PostgreSQL. xid8 -> text -> bigint: an xid8 is
# (epoch << 32 | xid) and stays far below 2**63 for the life of any cluster.
PG_TXID_DEFAULT = "(pg_current_xact_id()::text)::bigint"


class ChangeKind(enum.StrEnum):
    MEMBER = "member"  # Member Extended (code = record type 1-11)
    RANKING = "ranking"  # Member Ranking Extended (level changes in a ranking set)
    DESCRIPTOR = "descriptor"  # descriptor assignments (Ranking Extended, field 15)
    REWARD = "reward"  # Reward Sync (code = record type 1-7)
    TRANSACTION = "transaction"  # Transaction Sync file kinds
    INTERACTION = "interaction"  # Interaction Sync
    CASE = "case"  # Case Sync (code = action code)
    SURVEY = "survey"  # Survey Sync
    CAMPAIGN = "campaign"  # campaign membership
    PROMOTION = "promotion"  # promotion membership


class MemberTrigger(enum.StrEnum):
    """Member Extended record types, in the product's order."""

    CORE = "1"
    ACCOUNT_ID = "2"
    EMAIL = "3"
    PHONE = "4"
    ADDRESS = "5"
    CLUB = "6"
    DELETE = "7"
    POINT_CHANGE = "8"
    HEAD_OF_HOUSEHOLD = "9"
    CUSTOM_FIELD = "10"
    CHILD = "11"


class RewardTrigger(enum.StrEnum):
    """Reward Sync record types, in the product's order."""

    ISSUED = "1"
    REDEEMED = "2"
    CANCELLED = "3"
    REDEMPTION_REVERSAL = "4"
    EXPIRED = "5"
    CUSTOM_FIELD = "6"
    EXPIRATION_DATE_CHANGE = "7"


class TransactionTrigger(enum.StrEnum):
    POSTED = "POST"  # Issued files (transaction and product level), Transaction Type Details
    CANCELLED = "CNCL"  # Cancelled Transactions
    POINTS_EXPIRED = "PEXP"  # Point Expirations
    TRANSACTIONAL_BONUS = "BONS"  # Transactional Bonuses
    PROMO_CODE_BONUS = "PRMO"  # Promo Code Bonuses
    CUSTOM_FIELD = "CUST"  # custom field file (values set or changed after posting)


class RankingTrigger(enum.StrEnum):
    ENTERED = "ENTR"  # entered the ranking set
    LEVEL_CHANGED = "LEVL"
    LEFT = "EXIT"


class DescriptorTrigger(enum.StrEnum):
    ASSIGNED = "ASGN"
    EXPIRY_CHANGED = "EXPC"
    REMOVED = "RMVD"  # removed by a user, or expired by the batch (payload says which)


class SurveyTrigger(enum.StrEnum):
    ANSWERED = "ANSW"


class InteractionTrigger(enum.StrEnum):
    CREATED = "NEW"


class MembershipTrigger(enum.StrEnum):
    """Campaign and promotion membership."""

    JOINED = "JOIN"
    EXPIRY_CHANGED = "EXPC"
    LEFT = "LEAV"


# What subject_id / subject2_id hold, per kind (and code where it differs).
SUBJECTS: dict[str, tuple[str, str]] = {
    "member:2": ("account_ids.id", ""),
    "member:3": ("member_emails.id", ""),
    "member:4": ("member_phones.id", ""),
    "member:5": ("member_addresses.id", ""),
    "member:6": ("clubs.id", "club_memberships.id"),
    "member:8": ("point_ledger.id", ""),
    "member:9": ("households.id", ""),
    "member:10": ("custom_field_definitions.id", ""),
    "member:11": ("member_children.id", ""),
    "ranking": ("ranking_sets.id", "ranking_levels.id"),
    "descriptor": ("descriptors.id", "descriptor_assignments.id"),
    "reward": ("rewards.id", "reward_events.id"),
    "reward:6": ("rewards.id", "custom_field_definitions.id"),
    "transaction:POST": ("transactions.id", ""),
    "transaction:CNCL": ("transactions.id", ""),
    "transaction:CUST": ("transactions.id", "custom_field_definitions.id"),
    "transaction:PEXP": ("point_ledger.id", ""),
    "transaction:BONS": ("transaction_bonuses.id", "transactions.id"),
    "transaction:PRMO": ("transaction_bonuses.id", "transactions.id"),
    "interaction": ("interactions.id", ""),
    "case": ("cases.id", "case_events.id"),
    "survey": ("question_answers.id", "questions.id"),
    "campaign": ("campaigns.id", ""),
    "promotion": ("promotions.id", ""),
}


class ChangeLog(Base):
    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_txid", "txid"),
        Index("ix_change_log_kind_id", "kind", "id"),
        # Ids are never reused on SQLite even if the log is pruned: there the watermark
        # is the highest id an export has seen.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # FetchedValue: the ORM leaves the column out of its INSERTs, so the default applies.
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    # When the change happened (business time; may be earlier than the commit).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[ChangeKind] = mapped_column(str_enum(ChangeKind, "change_kind"))
    code: Mapped[str] = mapped_column(String(8))
    # No foreign keys: the log outlives what it describes and must never block a write.
    member_id: Mapped[int | None]
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    subject2_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# Tables built without the migrations (create_all in a scratch database) get the same
# server default as the migration gives them.
event.listen(
    ChangeLog.__table__,
    "after_create",
    # SQLAlchemy (2.1) leaves DDL.__init__ unannotated. Only --strict reports the call, so
    # the project's own mypy settings would call the ignore unused: hence both codes.
    DDL(  # type: ignore[no-untyped-call, unused-ignore]
        f"ALTER TABLE change_log ALTER COLUMN txid SET DEFAULT {PG_TXID_DEFAULT}"
    ).execute_if(dialect="postgresql"),
)
