"""Completion markers: the file a destination receives last, to say a run is complete.

Receivers' automation often polls for a trigger file instead of guessing when a set of
files is whole. A marker is built here (pure: names and bytes, no I/O) and uploaded by
the transfer job after every data file of the run is in place under its final name,
through the same temporary-name-then-rename upload as the data files, so it too appears
only complete.

Kinds (``webapp.models.syncs.Marker``):

* ``trigger``: an empty file, ``<first file name>.done`` by default;
* ``manifest_json``: ``<first file name>.manifest.json``, a JSON object with the run id,
  the sync, the creation time and each file's name, size, sha256 and rows;
* ``manifest_pipe``: ``<first file name>.manifest``, the same facts pipe-delimited with a
  header, UTF-8 and CRLF like the layouts, one line per file (the run's facts repeated on
  each, so every line stands alone).

A name template may replace the default name: ``{first}`` (the first file's name),
``{run}`` (the run id), ``{sync}`` (the sync id) and ``{date}`` (the run's creation date,
``YYYYMMDD`` UTC), e.g. ``{first}.ok`` or ``run_{run}.done``.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime

from delivery.errors import DeliveryError
from delivery.naming import is_temp_name, validate_remote_name

KINDS = ("trigger", "manifest_json", "manifest_pipe")
DEFAULT_SUFFIX = {
    "trigger": ".done",
    "manifest_json": ".manifest.json",
    "manifest_pipe": ".manifest",
}
FIELDS = ("first", "run", "sync", "date")
PIPE_HEADER = "Run Id|Sync Id|Sync Name|Created At|File Name|Size|SHA256|Rows"
_UNSAFE = re.compile(r"[\r\n|]")


@dataclass(frozen=True)
class MarkerFile:
    """One data file as the manifest lists it."""

    name: str
    size: int
    sha256: str
    rows: int | None


@dataclass(frozen=True)
class RunFacts:
    run_id: int
    sync_id: int
    sync_name: str
    created_at: datetime
    files: tuple[MarkerFile, ...]


def check_template(template: str) -> str:
    """A name template, or ``ValueError`` with the message a user sees."""
    try:
        used = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError:
        raise ValueError(
            "Unbalanced { or } in the marker name; use {first}, {run}, {sync} or {date}."
        ) from None
    unknown = [field for field in used if field not in FIELDS]
    if unknown:
        raise ValueError(
            f"Unknown field {{{unknown[0]}}} in the marker name; use {{first}}, {{run}}, "
            "{sync} or {date}."
        )
    sample = template.format(first="SB_Members_20261203.txt", run=1, sync=1, date="20261203")
    try:
        validate_remote_name(sample)
    except DeliveryError as exc:
        raise ValueError(f"The marker name is not a plain file name: {exc.message}") from None
    if is_temp_name(sample) or sample.startswith("."):
        raise ValueError("The marker name must not start with a dot (hidden files are temporary).")
    return template


def marker_name(kind: str, facts: RunFacts, template: str | None = None) -> str:
    """The marker's final name at the destination."""
    first = facts.files[0].name if facts.files else f"run_{facts.run_id}"
    if not template:
        return first + DEFAULT_SUFFIX[kind]
    name = template.format(
        first=first,
        run=facts.run_id,
        sync=facts.sync_id,
        date=facts.created_at.astimezone(UTC).strftime("%Y%m%d"),
    )
    return validate_remote_name(name)


def marker_bytes(kind: str, facts: RunFacts) -> bytes:
    """The marker's content: nothing for a trigger, the manifest otherwise."""
    if kind == "trigger":
        return b""
    created = facts.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if kind == "manifest_json":
        body = {
            "run_id": facts.run_id,
            "sync": {"id": facts.sync_id, "name": facts.sync_name},
            "created_at": created,
            "files": [
                {"name": f.name, "size": f.size, "sha256": f.sha256, "rows": f.rows}
                for f in facts.files
            ],
        }
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if kind == "manifest_pipe":
        lines = [PIPE_HEADER]
        name = _UNSAFE.sub(_replacement, facts.sync_name)
        for f in facts.files:
            rows = "" if f.rows is None else str(f.rows)
            lines.append(
                f"{facts.run_id}|{facts.sync_id}|{name}|{created}|{f.name}|{f.size}|{f.sha256}|{rows}"
            )
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    raise ValueError(f"Unknown marker kind {kind!r}.")


def _replacement(match: re.Match[str]) -> str:
    # As the layouts write values: a pipe becomes a broken bar, a line break a space.
    return "\N{BROKEN BAR}" if match.group() == "|" else " "


def build(kind: str, facts: RunFacts, template: str | None = None) -> tuple[str, bytes]:
    """The marker's name and bytes; ``kind`` is one of :data:`KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"Unknown marker kind {kind!r}.")
    return marker_name(kind, facts, template), marker_bytes(kind, facts)
