"""Custom fields: definitions per entity, and one value table per entity.

One table per entity (rather than one polymorphic table) keeps real foreign keys and lets
each sync read its own small table. Values are stored as text in a canonical form
(numbers as written, dates ``YYYY-MM-DD``, booleans ``true``/``false``); the custom-field
services validate them against the definition's type. Exports order custom-field columns
by definition id, which is stable: a new field is always appended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import BigId, ExtRef, Name
from loyalty.models.enums import CustomFieldEntity, CustomFieldType

VALUE_LENGTH = 255


class CustomFieldDefinition(Base):
    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("entity", "ext_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[CustomFieldEntity] = mapped_column(
        str_enum(CustomFieldEntity, "custom_field_entity")
    )
    ext_ref: Mapped[str] = mapped_column(ExtRef)
    name: Mapped[str] = mapped_column(Name)
    data_type: Mapped[CustomFieldType] = mapped_column(
        str_enum(CustomFieldType, "custom_field_type"), default=CustomFieldType.TEXT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberCustomValue(Base):
    __tablename__ = "member_custom_values"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransactionCustomValue(Base):
    __tablename__ = "transaction_custom_values"

    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LocationCustomValue(Base):
    __tablename__ = "location_custom_values"

    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProductCustomValue(Base):
    __tablename__ = "product_custom_values"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RewardCustomValue(Base):
    __tablename__ = "reward_custom_values"

    reward_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rewards.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
