"""Deliverable names, temporary upload names and the checks on remote names."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

from delivery.errors import DeliveryError, ErrorKind
from delivery.naming import (
    deliverable_name,
    is_temp_name,
    probe_name,
    temp_name,
    validate_remote_name,
)

pytestmark = [pytest.mark.nodb]


@pytest.mark.parametrize(
    ("compression", "encrypt", "expected"),
    [
        ("none", False, "members.txt"),
        ("gzip", False, "members.txt.gz"),
        ("zip", False, "members.txt.zip"),
        ("none", True, "members.txt.pgp"),
        ("gzip", True, "members.txt.gz.pgp"),
        ("zip", True, "members.txt.zip.pgp"),
    ],
)
def test_deliverable_names(compression: str, encrypt: bool, expected: str) -> None:
    assert deliverable_name("members.txt", compression, encrypt) == expected


def test_unknown_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="bzip2"):
        deliverable_name("members.txt", "bzip2", False)


def test_temp_name_is_hidden_unique_and_keeps_the_final_name() -> None:
    first, second = temp_name("members.txt.gz"), temp_name("members.txt.gz")
    assert first != second
    for name in (first, second):
        assert name.startswith(".members.txt.gz.")
        assert name.endswith(".part")
        assert is_temp_name(name)
    assert temp_name("a.txt", token="abc") == ".a.txt.abc.part"


def test_receivers_polling_for_the_final_pattern_never_see_a_temp_file(tmp_path: Path) -> None:
    final = "Members_20240101.txt"
    (tmp_path / temp_name(final)).write_bytes(b"partial")
    (tmp_path / temp_name(final + ".gz")).write_bytes(b"partial")
    for pattern in ("*.txt", "*.gz", "Members_*", "*Members*", "*.txt*"):
        assert glob.glob(pattern, root_dir=tmp_path) == [], pattern
    (tmp_path / final).write_bytes(b"done")
    assert glob.glob("*.txt", root_dir=tmp_path) == [final]


def test_temp_name_stays_within_255_bytes_and_valid_utf8() -> None:
    final = "é" * 127  # 254 bytes
    name = temp_name(final)
    encoded = name.encode("utf-8")
    assert len(encoded) <= 255
    assert encoded.decode("utf-8") == name
    assert name.startswith(".é")
    assert name.endswith(".part")


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "a/b.txt",
        "a\\b.txt",
        "a\nb.txt",
        "a\rb.txt",
        "a\x00b",
        "x" * 256,
        " lead.txt",
        "trail.txt ",
    ],
)
def test_unusable_remote_names_are_refused(name: str) -> None:
    with pytest.raises(DeliveryError) as info:
        validate_remote_name(name)
    assert info.value.kind is ErrorKind.CONFIG
    assert info.value.retryable is False


@pytest.mark.parametrize(
    "name", ["Mitglieder Übersicht été 2024.txt", "a b.txt.gz.pgp", "数据.txt"]
)
def test_spaces_and_non_ascii_are_fine(name: str) -> None:
    assert validate_remote_name(name) == name


def test_probe_names_are_hidden_temp_names() -> None:
    name = probe_name()
    assert is_temp_name(name)
    assert name != probe_name()
    assert os.sep not in name
