"""The zip and gzip writers, read back with Python's own readers (no servers, no tools)."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pytest

from delivery.compression import gzip_file, zip_file

pytestmark = [pytest.mark.nodb]


@pytest.fixture
def original(tmp_path: Path) -> Path:
    path = tmp_path / "Mitglieder été.txt"
    # Text that compresses, across several 1 MiB blocks, plus incompressible bytes.
    rows = "".join(f"{i}|Müller|Zürich|{i * 7 % 1000}\r\n" for i in range(120_000)).encode()
    path.write_bytes(rows + os.urandom(300_000))
    return path


@pytest.mark.parametrize("threads", [1, 2])
def test_gzip_reads_back(original: Path, tmp_path: Path, threads: int) -> None:
    target = tmp_path / "out.gz"
    gzip_file(original, target, threads=threads)
    assert gzip.decompress(target.read_bytes()) == original.read_bytes()
    assert target.stat().st_size < original.stat().st_size


@pytest.mark.parametrize("force_zip64", [False, True])
def test_zip_holds_the_original_under_its_name(
    original: Path, tmp_path: Path, force_zip64: bool
) -> None:
    target = tmp_path / "out.zip"
    zip_file(original, target, original.name, force_zip64=force_zip64)
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        [info] = archive.infolist()
        assert info.filename == original.name
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.file_size == original.stat().st_size
        assert archive.read(info) == original.read_bytes()


def test_empty_files_compress(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    gzip_file(empty, tmp_path / "e.gz")
    zip_file(empty, tmp_path / "e.zip", "empty.txt")
    assert gzip.decompress((tmp_path / "e.gz").read_bytes()) == b""
    with zipfile.ZipFile(tmp_path / "e.zip") as archive:
        assert archive.read("empty.txt") == b""
