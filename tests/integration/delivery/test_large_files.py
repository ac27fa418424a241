"""A 1 GiB file over SFTP and FTPS arrives byte for byte (SHA-256 on the receiver)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from delivery.packaging import digest
from delivery.transports import open_transport
from tests.fixtures.ftps import VsftpdServer
from tests.fixtures.sshd import SshdServer

pytestmark = [pytest.mark.nodb, pytest.mark.integration, pytest.mark.slow]

GIB = 1 << 30


@pytest.fixture(scope="module")
def one_gib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """1 GiB that no block repeats in (a 16 MiB random block, each copy numbered)."""
    path = tmp_path_factory.mktemp("large") / "members_1gib.txt"
    block = bytearray(os.urandom(16 << 20))
    hasher = hashlib.sha256()
    with open(path, "wb") as handle:
        for number in range(GIB // len(block)):
            block[:8] = number.to_bytes(8, "big")
            hasher.update(block)
            handle.write(block)
    yield path, hasher.hexdigest()
    path.unlink()  # pytest keeps old temp folders; not 1 GiB of them


def test_one_gib_over_sftp(sshd_server: SshdServer, one_gib: tuple[Path, str]) -> None:
    local, expected = one_gib
    remote_dir, on_disk = sshd_server.fresh_dir()
    # Also crosses paramiko's rekey threshold (512 MiB) mid-transfer.
    with open_transport(sshd_server.endpoint(directory=remote_dir, timeout=30)) as transport:
        result = transport.upload(local, local.name)
    received = digest(on_disk / local.name)
    os.unlink(on_disk / local.name)
    assert result.bytes_sent == GIB
    assert (received.size, received.sha256) == (GIB, expected)


def test_one_gib_over_ftps(vsftpd_server: VsftpdServer, one_gib: tuple[Path, str]) -> None:
    local, expected = one_gib
    remote_dir, on_disk = vsftpd_server.fresh_dir()
    with open_transport(vsftpd_server.endpoint(directory=remote_dir, timeout=30)) as transport:
        transport.upload(local, local.name)
    received = digest(on_disk / local.name)
    os.unlink(on_disk / local.name)
    assert (received.size, received.sha256) == (GIB, expected)
