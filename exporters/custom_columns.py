"""Custom-field columns appended to a layout (Transaction, Location, Product Item syncs).

The product writes one column per custom field of the entity, in an order it fixes but
does not document, and warns that a new field may land anywhere. This project keeps the
rule but makes the order stable: by definition id, so a field defined later is always
appended after the existing ones and never moves them (docs/sync-types/<key>.md say so).

Each column is headed by the field's external reference and holds the stored canonical
text of the value (numbers as written, dates ``YYYY-MM-DD``, booleans ``true``/``false``),
empty when the entity has no value for the field. The values are joined in SQL (one
outer join per field on the value table's primary key), so exports still stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from exporters.base import Column
from exporters.sql import Expr, text_field
from exporters.writer import clean
from loyalty.models import CustomFieldDefinition, CustomFieldEntity

if TYPE_CHECKING:
    from exporters.base import AnySelect

# How the layout pages show the variable columns (one row standing for all of them).
HEADER_PLACEHOLDER = "{CustomFieldExternalReference}"


@dataclass(frozen=True)
class Definition:
    id: int
    ext_ref: str


def definitions(session: Session, entity: CustomFieldEntity) -> list[Definition]:
    """The entity's custom fields in column order (definition id)."""
    rows = session.execute(
        select(CustomFieldDefinition.id, CustomFieldDefinition.ext_ref)
        .where(CustomFieldDefinition.entity == entity)
        .order_by(CustomFieldDefinition.id)
    )
    return [Definition(row.id, row.ext_ref) for row in rows]


def headers(fields: list[Definition]) -> list[str]:
    """Header names of the custom-field columns: the external references, made safe."""
    return [clean(field.ext_ref) for field in fields]


def add_columns(
    statement: AnySelect, value_model: Any, owner_key: str, owner_id: Any, fields: list[Definition]
) -> AnySelect:
    """``statement`` with one formatted value column per field appended, outer-joined.

    ``value_model`` is the entity's value table (e.g. ``LocationCustomValue``),
    ``owner_key`` its column naming the owner (``"location_id"``), ``owner_id`` the
    owner's id column in ``statement``.
    """
    columns: list[Expr] = []
    for field in fields:
        value = aliased(value_model, name=f"cf_{field.id}")
        statement = statement.outerjoin(
            value, and_(getattr(value, owner_key) == owner_id, value.field_id == field.id)
        )
        columns.append(text_field(value.value))
    return statement.add_columns(*columns) if columns else statement


def column_doc(entity_label: str, when: str, documented: bool) -> Column:
    """The one declared column that stands for all custom-field columns on layout pages."""
    return Column(
        HEADER_PLACEHOLDER,
        "Custom Fields",
        "variable (String(255) each)",
        f"{when}: one column per {entity_label} custom field, ordered by definition id "
        "(a new field is appended), headed by the field's external reference; the stored "
        "value (dates YYYY-MM-DD, booleans true/false), empty when not set",
        documented=documented,
    )
