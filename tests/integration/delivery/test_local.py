"""The local-folder transport: same upload procedure, on a folder of this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from delivery.errors import DeliveryError, ErrorKind
from delivery.transports import Endpoint, check_connection, open_transport
from tests.integration.delivery._helpers import ProgressLog, listing, random_file, sha256

pytestmark = [pytest.mark.nodb]


def _endpoint(folder: Path) -> Endpoint:
    return Endpoint("local", "", directory=str(folder))


def test_upload_renames_into_place(tmp_path: Path) -> None:
    target = tmp_path / "share"
    target.mkdir()
    local = random_file(tmp_path / "a.txt", 3 * 1024 * 1024)
    seen: list[list[str]] = []
    progress = ProgressLog(at=1 << 20, action=lambda: seen.append(listing(target)))
    with open_transport(_endpoint(target)) as transport:
        result = transport.upload(local, "Mitglieder été.txt", progress=progress)
    assert result.remote_path == str(target / "Mitglieder été.txt")
    assert listing(target) == ["Mitglieder été.txt"]
    assert sha256(target / "Mitglieder été.txt") == sha256(local)
    [during] = seen
    assert len(during) == 1
    assert during[0].endswith(".part")
    assert during[0].startswith(".")
    progress.check_monotonic_to(local.stat().st_size)


def test_overwrite_policy(tmp_path: Path) -> None:
    target = tmp_path / "share"
    target.mkdir()
    first, second = random_file(tmp_path / "1", 10), random_file(tmp_path / "2", 20)
    with open_transport(_endpoint(target)) as transport:
        transport.upload(first, "x.txt")
        transport.upload(second, "x.txt")
        with pytest.raises(DeliveryError) as info:
            transport.upload(first, "x.txt", overwrite=False)
    assert info.value.kind is ErrorKind.REMOTE_EXISTS
    assert sha256(target / "x.txt") == sha256(second)
    assert listing(target) == ["x.txt"]


def test_missing_folder_and_missing_local_file(tmp_path: Path) -> None:
    result = check_connection(_endpoint(tmp_path / "nope"))
    assert result.error_kind is ErrorKind.NO_DIRECTORY
    assert check_connection(_endpoint(tmp_path)).ok
    with pytest.raises(DeliveryError) as info, open_transport(_endpoint(tmp_path)) as transport:
        transport.upload(tmp_path / "missing.txt", "missing.txt")
    assert info.value.kind is ErrorKind.LOCAL
    assert info.value.retryable is False
