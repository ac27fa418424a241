from __future__ import annotations

from pathlib import Path

import pytest

from exporters.writer import RecordWriter, clean

pytestmark = pytest.mark.nodb


def names(n: int) -> str:
    return f"File_{n:02d}.txt"


def test_clean_never_lets_a_value_shift_columns() -> None:
    assert clean("Smith|Jones") == "Smith\u00a6Jones"
    assert clean("line1\r\nline2\nline3\tx") == "line1  line2 line3 x"
    assert clean("bell\x07 nul\x00") == "bell nul"
    assert clean(None) == ""
    assert clean(42) == "42"
    assert clean("Zoë Ærø 東京") == "Zoë Ærø 東京"


def read(path: Path) -> bytes:
    return path.read_bytes()


def test_header_rows_crlf_utf8(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path, "", names, header=["A", "B"])
    writer.write(["1", "Zoë"])
    writer.write(["2", ""])
    files = writer.close()
    assert [f.name for f in files] == ["File_01.txt"]
    assert read(files[0].path) == "A|B\r\n1|Zoë\r\n2|\r\n".encode()
    assert files[0].rows == 2


@pytest.mark.parametrize(
    ("records", "expected"), [(3, [3]), (4, [3, 1]), (6, [3, 3]), (7, [3, 3, 1])]
)
def test_split_boundaries(tmp_path: Path, records: int, expected: list[int]) -> None:
    writer = RecordWriter(tmp_path, "k", names, header=["H"], max_records=3)
    writer.write_rows([str(i)] for i in range(records))
    files = writer.close()
    assert [f.rows for f in files] == expected
    assert [f.name for f in files] == [names(i + 1) for i in range(len(expected))]
    for f in files:
        lines = read(f.path).decode().split("\r\n")
        assert lines[0] == "H"  # the header starts every numbered file
        assert len(lines) == f.rows + 2  # header + rows + final empty after the last CRLF
    all_rows = [line for f in files for line in read(f.path).decode().split("\r\n")[1:-1]]
    assert all_rows == [str(i) for i in range(records)]


def test_fast_path_and_single_path_write_identical_bytes(tmp_path: Path) -> None:
    rows = [[str(i), f"name {i}"] for i in range(12_345)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fast = RecordWriter(tmp_path / "a", "", names, header=["I", "N"])
    fast.write_rows(rows)
    slow = RecordWriter(tmp_path / "b", "", names, header=["I", "N"])
    for row in rows:
        slow.write(row)
    assert read(fast.close()[0].path) == read(slow.close()[0].path)


def test_empty_export_writes_a_header_only_file(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path, "", names, header=["A", "B"])
    files = writer.close()
    assert read(files[0].path) == b"A|B\r\n"
    assert files[0].rows == 0


def test_empty_export_can_write_nothing(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path, "", names, header=["A"])
    assert writer.close(write_empty=False) == []
    assert list(tmp_path.iterdir()) == []


def test_no_header_layout(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path, "", names, header=None)
    writer.write(["1", "x"])
    assert read(writer.close()[0].path) == b"1|x\r\n"


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[int] = []
    writer = RecordWriter(tmp_path, "", names, header=None, progress=seen.append)
    writer.write_rows([str(i)] for i in range(25_000))
    writer.close()
    assert seen[-1] == 25_000
    assert seen == sorted(seen)
    assert len(seen) >= 3


def test_a_run_never_overwrites_its_own_file(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path, "", lambda _n: "Same.txt", header=None, max_records=1)
    writer.write(["1"])
    with pytest.raises(FileExistsError):
        writer.write(["2"])
