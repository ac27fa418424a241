"""The timezones a sync may be scheduled in: canonical IANA zones, common ones first.

``zoneinfo.available_timezones()`` lists about 600 names, among them files that are no
zone a person means (``localtime``, ``Factory``, ``posixrules``), legacy aliases kept by
tzdata's ``backward`` file (``US/Eastern``, ``Asia/Calcutta``) and the fixed offsets of
``Etc/`` (whose signs read backwards: ``Etc/GMT+5`` is UTC-5). The picker offers the
zones tzdata itself defines (``Z`` lines of ``tzdata.zi``) and the one-per-country names
of ``zone.tab`` (which keeps e.g. ``Europe/Oslo``, now a link to ``Europe/Berlin``), plus
``UTC``. Validation, the settings form and ``flask sync set --timezone`` all use
:func:`check_choosable`.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from zoneinfo import available_timezones

from webapp.models.syncs import check_timezone

# Offered first: where this product's receivers mostly are. Every one is canonical.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def _tzdata_text(name: str) -> str | None:
    """One of tzdata's text files: the ``tzdata`` package's copy, else the system's."""
    try:
        return resources.files("tzdata.zoneinfo").joinpath(name).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        pass
    for root in ("/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo"):
        path = Path(root) / name
        if path.is_file():
            return path.read_text("utf-8")
    return None


@functools.cache
def canonical_zones() -> tuple[str, ...]:
    """Every zone name the picker offers, sorted (about 420)."""
    names: set[str] = set()
    zi = _tzdata_text("tzdata.zi")
    if zi:
        names |= {line.split()[1] for line in zi.splitlines() if line.startswith("Z ")}
    tab = _tzdata_text("zone.tab")
    if tab:
        names |= {
            parts[2]
            for line in tab.splitlines()
            if line and not line.startswith("#") and len(parts := line.split("\t")) > 2
        }
    if not names:
        # No tzdata text at all: the area/city names of what zoneinfo can load.
        names = {n for n in available_timezones() if "/" in n and n.split("/")[0].istitle()}
    available = available_timezones()
    chosen = {
        n for n in names if "/" in n and not n.startswith(("Etc/", "SystemV/")) and n in available
    }
    return tuple(sorted(chosen | {"UTC"}))


@functools.cache
def aliases() -> dict[str, str]:
    """Link name -> the zone it points to (``L`` lines of ``tzdata.zi``)."""
    zi = _tzdata_text("tzdata.zi") or ""
    return {
        parts[2]: parts[1]
        for line in zi.splitlines()
        if line.startswith("L ") and len(parts := line.split()) == 3
    }


def grouped_choices() -> list[tuple[str, list[str]]]:
    """(group label, zones): the common zones, then every zone by region."""
    common = [z for z in COMMON_ZONES if z in canonical_zones()]
    regions: dict[str, list[str]] = {}
    for zone in canonical_zones():
        if zone == "UTC":
            continue
        regions.setdefault(zone.split("/", 1)[0], []).append(zone)
    return [("Common", common), *((region, zones) for region, zones in sorted(regions.items()))]


def check_choosable(value: object, current: str | None = None) -> str:
    """``value`` if it is a zone the picker offers (or the sync's current zone, kept as it
    is); otherwise ValueError with a message that names the value."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Choose a timezone, e.g. Europe/London.")
    value = value.strip()
    if current is not None and value == current:
        return value
    if value in canonical_zones():
        return value
    shown = value if len(value) <= 40 else value[:40] + "..."
    try:
        check_timezone(value)
    except ValueError:
        raise ValueError(
            f"Unknown timezone {shown!r}; choose an IANA zone such as Europe/London."
        ) from None
    target = aliases().get(value)
    if target == "Etc/UTC":
        target = "UTC"
    if target in canonical_zones():
        raise ValueError(f"{shown!r} is an old alias of {target}; choose {target}.")
    raise ValueError(
        f"{shown!r} is not offered: it is a special name or a fixed offset, not a place's "
        "zone; choose a zone such as Europe/London or UTC."
    )
