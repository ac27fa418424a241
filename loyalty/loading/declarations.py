"""What a row of each kind looks like: one ``Field`` per column.

The same declaration converts and checks a row's cells (``Kind.convert``) and writes the
format documentation (``scripts/gen_loading_docs.py``), so the docs cannot drift from
what the loader accepts. The checks here are the ones that need no database (type,
required, length, allowed values); the domain services still apply their own rules, and
their ``ValidationError`` becomes a row error as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from loyalty.text import clean_int

# The types a cell can have, and how the docs describe each.
TYPES: dict[str, str] = {
    "text": "text (UTF-8)",
    "int": "whole number",
    "decimal": "number, at most two decimals",
    "bool": "true/false (also 1/0, yes/no)",
    "datetime": "ISO 8601 time, e.g. 2026-11-23T14:05:09Z (no offset: UTC)",
    "lines": "basket lines: SKU:quantity:unit_price[:points] separated by ';' "
    "(NDJSON: a list of objects with sku, quantity, unit_price, points)",
}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_INT_RANGE = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class RowError:
    """One line of the error report: never a traceback, always a reason a person reads."""

    line: int
    field: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "value": self.value, "reason": self.reason}


class RowInvalid(Exception):
    """A row that cannot be applied; carries its report lines (``line`` filled in later)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems  # (field, value, reason)
        super().__init__("; ".join(reason for _, _, reason in problems))


def shown(value: Any) -> str:
    """A cell as the report shows it: text, cut to 80 characters (a 1 MB field stays out)."""
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "text"
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown field type {self.type!r}")

    def convert(self, raw: Any) -> Any:
        """The cell's value (``None`` when empty), or ``ValueError`` with the reason."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.required:
                raise ValueError(f"{self.name} is required.")
            return None
        if self.type == "lines":
            return _lines(raw)
        if isinstance(raw, list | dict):
            raise ValueError(f"{self.name} must be a single value, not a list or object.")
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise ValueError(f"{self.name} is true or false.")
        if isinstance(raw, bool):
            raise ValueError(f"{self.name} must be {TYPES[self.type]}.")
        text = raw.strip() if isinstance(raw, str) else str(raw)
        if "\x00" in text:
            raise ValueError(f"{self.name} contains a NUL byte.")
        if self.type == "int":
            return clean_int(text, self.name, minimum=_INT_RANGE[0], maximum=_INT_RANGE[1])
        if self.type == "decimal":
            return _decimal(self.name, text)
        if self.type == "datetime":
            return _datetime(self.name, text)
        if self.max_length is not None and len(text) > self.max_length:
            raise ValueError(f"{self.name} has at most {self.max_length} characters.")
        if self.choices:
            lowered = text.lower()
            if lowered not in self.choices:
                raise ValueError(f"{self.name} is one of {', '.join(self.choices)}.")
            return lowered
        return text


def _decimal(name: str, text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} must be a number.") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a number.")
    return number


def _datetime(name: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{name} is not a valid ISO 8601 time (e.g. 2026-11-23T14:05:09Z)."
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class LineValue:
    sku: str | None
    quantity: int
    unit_price: Decimal
    points: Decimal | None


def _lines(raw: Any) -> list[LineValue]:
    items: list[dict[str, Any]] = []
    if isinstance(raw, list):
        for item in raw:
            if not isinstance(item, dict):
                raise ValueError("lines is a list of objects (sku, quantity, unit_price, points).")
            items.append(item)
    elif isinstance(raw, str):
        for number, part in enumerate(raw.split(";"), start=1):
            pieces = part.strip().split(":")
            if len(pieces) not in (3, 4):
                raise ValueError(f"line {number} of lines is not SKU:quantity:unit_price[:points].")
            keys = ("sku", "quantity", "unit_price", "points")
            items.append(dict(zip(keys, pieces, strict=False)))
    else:
        raise ValueError("lines must be text (CSV) or a list (NDJSON).")
    result = []
    for number, item in enumerate(items, start=1):
        label = f"lines[{number}]"
        sku = str(item.get("sku") or "").strip() or None
        quantity = clean_int(
            str(item.get("quantity", "")), f"{label}.quantity", minimum=-(10**6), maximum=10**6
        )
        if quantity == 0:
            raise ValueError(f"{label}.quantity must not be zero.")
        price = _decimal(f"{label}.unit_price", str(item.get("unit_price", "")).strip())
        if price < 0:
            raise ValueError(f"{label}.unit_price must not be negative.")
        raw_points = item.get("points")
        points = None
        if raw_points is not None and str(raw_points).strip() != "":
            points = _decimal(f"{label}.points", str(raw_points).strip())
        result.append(LineValue(sku, quantity, price, points))
    return result


# apply(session, values, present) -> True when something changed, False when unchanged.
# ``values`` holds the converted cells of the columns the file has (``present``); a column
# the file does not have leaves the stored value alone, an empty cell clears it.
Apply = Callable[[Session, Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    key: str
    fields: tuple[Field, ...]
    apply: Apply
    doc: str = ""
    example: Mapping[str, str] = field(default_factory=dict)

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def check_header(self, columns: list[str]) -> str | None:
        """Why a header cannot be loaded (unknown, repeated or missing column), or None."""
        known = set(self.field_names())
        seen: set[str] = set()
        for column in columns:
            if column in seen:
                return f"column {column!r} appears twice in the header."
            seen.add(column)
        unknown = [c for c in columns if c not in known]
        if unknown:
            return (
                f"unknown column(s) for {self.name}: {', '.join(repr(c) for c in unknown)}"
                f" (known: {', '.join(self.field_names())})."
            )
        missing = [f.name for f in self.fields if f.required and f.name not in seen]
        if missing:
            return f"required column(s) missing: {', '.join(missing)}."
        return None

    def convert(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Every cell converted, or ``RowInvalid`` listing every bad one."""
        by_name = {f.name: f for f in self.fields}
        values: dict[str, Any] = {}
        problems: list[tuple[str, str, str]] = []
        for name, raw in row.items():
            declared = by_name.get(name)
            if declared is None:
                problems.append((name, shown(raw), f"unknown field {name!r} for {self.name}."))
                continue
            try:
                values[name] = declared.convert(raw)
            except ValueError as exc:
                problems.append((name, shown(raw), str(exc)))
        for declared in self.fields:
            if declared.required and declared.name not in row:
                problems.append((declared.name, "", f"{declared.name} is required."))
        if problems:
            raise RowInvalid(problems)
        return values
