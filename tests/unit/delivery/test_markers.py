"""Completion marker names and bytes (pure: no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from delivery.errors import DeliveryError
from delivery.markers import MarkerFile, RunFacts, build, check_template

FACTS = RunFacts(
    run_id=42,
    sync_id=7,
    sync_name="Members\r\nA|B",
    # 01:30 on the 4th in UTC+2 is the 3rd in UTC: names and times are UTC.
    created_at=datetime(2026, 12, 4, 1, 30, tzinfo=timezone(timedelta(hours=2))),
    files=(
        MarkerFile("SB_A_20261203.txt.gz", 10, "a" * 64, 3),
        MarkerFile("SB_B_20261203.txt.gz", 0, "b" * 64, None),
    ),
)


@pytest.mark.parametrize(
    ("kind", "template", "name"),
    [
        ("trigger", None, "SB_A_20261203.txt.gz.done"),
        ("manifest_json", None, "SB_A_20261203.txt.gz.manifest.json"),
        ("manifest_pipe", None, "SB_A_20261203.txt.gz.manifest"),
        ("trigger", "run_{run}_{sync}_{date}.ok", "run_42_7_20261203.ok"),
        ("trigger", "{first}.ready", "SB_A_20261203.txt.gz.ready"),
    ],
)
def test_names(kind: str, template: str | None, name: str) -> None:
    assert build(kind, FACTS, template)[0] == name


def test_trigger_is_empty_and_manifests_list_every_file() -> None:
    assert build("trigger", FACTS)[1] == b""
    body = json.loads(build("manifest_json", FACTS)[1])
    assert body["created_at"] == "2026-12-03T23:30:00Z"
    assert [f["rows"] for f in body["files"]] == [3, None]
    lines = build("manifest_pipe", FACTS)[1].decode().split("\r\n")
    assert (
        lines[1] == f"42|7|Members  A¦B|2026-12-03T23:30:00Z|SB_A_20261203.txt.gz|10|{'a' * 64}|3"
    )
    assert lines[2].endswith("|0|" + "b" * 64 + "|") and lines[3] == ""


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{nope}", "Unknown field {nope}"),
        ("{first", "Unbalanced"),
        ("a/{run}", "slash"),
        (".{run}.done", "dot"),
        ("x" * 300, "longer than 255 bytes"),
    ],
)
def test_bad_templates_are_refused(template: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_template(template)


def test_a_template_that_yields_no_file_name_fails_the_build_in_words() -> None:
    long_first = RunFacts(
        42, 7, "S", datetime(2026, 12, 3, tzinfo=UTC), (MarkerFile("x" * 250, 1, "c" * 64, 1),)
    )
    with pytest.raises(DeliveryError):
        build("trigger", long_first, "{first}.done.done")
