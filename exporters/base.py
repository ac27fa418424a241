"""What a sync type is: metadata the app shows and validates, and the function that exports it.

A sync type is declared, not derived: its key (stored in the database), label, semantics,
scope parameter, options, file kinds with their columns, and the file-name rule are plain
data in its module, so the settings page, the layout page, the docs and the exporter all
read the same declaration (the Meltano/Airbyte "stream as metadata" idea).

Exporters know SQLAlchemy and the models; they never import Flask or RQ.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyalty.text import clean_text

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy.orm import Session
    from sqlalchemy.sql import Select

    # A SELECT of any number of columns (SQLAlchemy 2.1 types Select by its columns).
    AnySelect: TypeAlias = Select[*tuple[Any, ...]]


class Semantics(enum.StrEnum):
    INCREMENTAL = "incremental"  # only what changed since the last created file
    CUMULATIVE = "cumulative"  # a full snapshot every run
    EVENT_STREAM = "event_stream"  # every change event since the last file, in order
    HYBRID = "hybrid"  # incremental choice of members, cumulative data for each

    @property
    def reads_watermark(self) -> bool:
        return self is not Semantics.CUMULATIVE


# At most 18 digits: every bounded option fits, and int() never parses a huge string.
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")


class OptionKind(enum.StrEnum):
    BOOL = "bool"
    INT = "int"
    CHOICE = "choice"  # one of choices
    MULTI = "multi"  # any subset of choices
    TEXT = "text"


@dataclass(frozen=True)
class Option:
    """A per-sync setting of a type (Points Setting, max records per file, file kinds...)."""

    key: str
    label: str
    kind: OptionKind
    default: Any
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    minimum: int | None = None  # INT: least value; MULTI: least number of choices
    maximum: int | None = None
    # True when the original product documents the option, False when designed here.
    documented: bool = True

    def clean(self, raw: Any) -> Any:
        """Turn a submitted value into the stored one; ValueError with a user message if bad."""
        if self.kind is OptionKind.BOOL:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on", "y"):
                return True
            if text in ("0", "false", "no", "off", "n", ""):
                return False
            raise ValueError(f"{self.label}: expected yes or no, got {raw!r}.")
        if self.kind is OptionKind.INT:
            if raw is None or str(raw).strip() == "":
                if self.default is None:
                    return None
                raise ValueError(f"{self.label} is required.")
            # ASCII digits only (full-width digits and 10**40 are not a number of records).
            if not _WHOLE.fullmatch(str(raw).strip()):
                raise ValueError(f"{self.label} must be a whole number.")
            value = int(str(raw).strip())
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{self.label} must be at least {self.minimum}.")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{self.label} must be at most {self.maximum:,}.")
            return value
        allowed = [value for value, _ in self.choices]
        if self.kind is OptionKind.CHOICE:
            if raw not in allowed:
                raise ValueError(f"{self.label}: choose one of {', '.join(allowed)}.")
            return raw
        if self.kind is OptionKind.MULTI:
            items = raw.split(",") if isinstance(raw, str) else list(raw or [])
            items = [str(i).strip() for i in items if str(i).strip()]
            unknown = [i for i in items if i not in allowed]
            if unknown:
                raise ValueError(f"{self.label}: unknown value(s) {', '.join(unknown)}.")
            # Stored in declaration order, so equal selections compare equal.
            chosen = [value for value in allowed if value in items]
            # For a multi-select, ``minimum`` is the least number of choices.
            if self.minimum is not None and len(chosen) < self.minimum:
                raise ValueError(f"{self.label}: choose at least {self.minimum}.")
            return chosen
        return clean_text(
            "" if raw is None else str(raw), self.label, max_length=self.maximum or 1000
        )


@dataclass(frozen=True)
class ScopeParam:
    """The object a sync is bound to at creation (descriptor, ranking set, campaign, promotion)."""

    key: str  # stored in Sync.scope, e.g. "descriptor_id"
    label: str  # "Member descriptor"
    # All objects support may choose from: [(id, "EXTREF — Name")].
    choices: Callable[[Session], list[tuple[int, str]]]
    # The external reference of one object (None when it does not exist).
    external_reference: Callable[[Session, int], str | None]
    # The same for many objects in one query (the sync list names every sync's scope).
    external_references: Callable[[Session, Collection[int]], dict[int, str]] | None = None


@dataclass(frozen=True)
class Column:
    """One field of a layout, as the layout page and the docs show it."""

    header: str  # the header name written in the file (or the field name where no header)
    label: str  # the documented field name
    type: str = ""  # documented type, e.g. "Numeric(10)", "String(60)", "Date"
    notes: str = ""
    documented: bool = True  # False: designed by this project where the product docs stop


@dataclass(frozen=True)
class FileKind:
    """One kind of file a type writes (most types write one kind; Transaction and Survey several)."""

    key: str
    label: str
    columns: tuple[Column, ...]
    header: bool
    name_pattern: str  # documentation form, e.g. "InteractionSync_YYYYMMDDHHMMSS_{File Number}.txt"
    # Record types of variable-width files (Member Extended, Reward): code -> (name, columns).
    record_types: tuple[RecordType, ...] = ()


@dataclass(frozen=True)
class RecordType:
    code: str
    label: str
    columns: tuple[Column, ...]
    documented: bool = True


@dataclass
class OriginalFile:
    """A file an exporter wrote into the run's folder."""

    path: Path
    kind: str
    rows: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class ExportContext:
    """Everything an exporter may use; built by the job (or the CLI) for one run."""

    session: Session  # bound to one connection inside one read snapshot
    sync_id: int
    instance_id: int | None
    scope: dict[str, Any]
    options: dict[str, Any]
    run_started_at: datetime  # aware; names the files
    timezone: str  # the sync's IANA zone: file-name timestamps are local to it
    out_dir: Path
    watermark: dict[str, Any] | None  # where the last created file stopped (None: never ran)
    database_number: int = 1
    database_timezone: str = "UTC"
    corporate_timezone: str = "UTC"
    # True when a file of this name was already created by an earlier run of this sync.
    name_taken: Callable[[str], bool] = lambda _name: False
    # Called now and then with the number of records written so far.
    progress: Callable[[int], None] = lambda _rows: None

    @property
    def local_date(self) -> date:
        """The run's date on the sync's wall clock (for "as of today" rules)."""
        from zoneinfo import ZoneInfo

        return self.run_started_at.astimezone(ZoneInfo(self.timezone)).date()


@dataclass
class ExportResult:
    files: list[OriginalFile] = field(default_factory=list)
    # Where the next incremental run starts; None for cumulative types.
    watermark: dict[str, Any] | None = None

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def row_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.kind or "rows"] = counts.get(f.kind or "rows", 0) + f.rows
        return counts


Exporter = Callable[[ExportContext], ExportResult]


@dataclass(frozen=True)
class SyncType:
    key: str
    label: str
    description: str
    semantics: Semantics
    file_kinds: tuple[FileKind, ...]
    export: Exporter
    scope: ScopeParam | None = None
    options: tuple[Option, ...] = ()
    # Source of the layout: "documented", "partial" or "designed".
    doc_status: str = "documented"
    notes: tuple[str, ...] = ()
    # The SELECTs whose rows the files hold (formatted values), for bench/export.py to run
    # through the database's own export tool (sqlite3 .mode list / PostgreSQL COPY).
    reference_queries: Callable[[ExportContext], list[AnySelect]] | None = None

    def option(self, key: str) -> Option:
        for option in self.options:
            if option.key == key:
                return option
        raise KeyError(key)

    def default_options(self) -> dict[str, Any]:
        return {o.key: o.default for o in self.options}

    def clean_options(
        self, raw: dict[str, Any], base: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Validate submitted options over ``base``; raise ValueError mapping keys to messages."""
        cleaned = {**self.default_options(), **(base or {})}
        errors: dict[str, str] = {}
        for key, value in raw.items():
            try:
                cleaned[key] = self.option(key).clean(value)
            except KeyError:
                errors[key] = f"{self.label} has no option {key!r}."
            except ValueError as exc:
                errors[key] = str(exc)
        if errors:
            raise OptionsInvalid(errors)
        return {k: v for k, v in cleaned.items() if k in {o.key for o in self.options}}


class OptionsInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def iter_columns(kinds: Iterable[FileKind]) -> Sequence[Column]:
    return [c for k in kinds for c in k.columns]
