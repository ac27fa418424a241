"""Issue 17, item 21 (delivery side): ``still_current`` fences the rename of an upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from delivery.transports import Superseded, open_transport
from tests.fixtures.sshd import SshdServer
from tests.integration.delivery._helpers import ProgressLog, listing, random_file, sha256

pytestmark = [pytest.mark.nodb, pytest.mark.integration]


def test_an_attempt_superseded_mid_upload_renames_nothing(
    sshd_server: SshdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "big.txt", 8 * 1024 * 1024)
    token = {"current": 1}
    first = ProgressLog(at=1 << 20, action=lambda: token.update(current=2))  # the sweeper
    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        with pytest.raises(Superseded):
            transport.upload(
                local,
                "big.txt",
                progress=first,
                temp_token="t9-1",
                still_current=lambda: token["current"] == 1,
            )
        assert first.fired
        assert listing(on_disk) == []  # no final file, and its temporary file is gone
        transport.upload(
            local,
            "big.txt",
            temp_token="t9-2",
            leftover_tokens=("t9-1",),
            still_current=lambda: token["current"] == 2,
        )
    assert listing(on_disk) == ["big.txt"]
    assert sha256(on_disk / "big.txt") == sha256(local)


def test_a_check_that_cannot_answer_renames_nothing(
    sshd_server: SshdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "small.txt", 4096)

    def unreachable() -> bool:
        raise ConnectionError("database unreachable")

    with (
        open_transport(sshd_server.endpoint(directory=remote_dir)) as transport,
        pytest.raises(Superseded),
    ):
        transport.upload(local, "small.txt", still_current=unreachable)
    assert listing(on_disk) == []
