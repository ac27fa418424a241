"""SFTP against a real OpenSSH sshd: logins, host key pinning, atomic uploads, failures."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from delivery.errors import DeliveryError, ErrorKind
from delivery.transports import check_connection, open_transport
from tests.fixtures.sshd import SshdServer, ed25519_keypair
from tests.integration.delivery._helpers import (
    ProgressLog,
    listing,
    random_file,
    sha256,
    temp_files,
)

pytestmark = [pytest.mark.nodb, pytest.mark.integration]


def _upload_fails(endpoint, local: Path, name: str, **kwargs) -> DeliveryError:
    with pytest.raises(DeliveryError) as info, open_transport(endpoint) as transport:
        transport.upload(local, name, **kwargs)
    return info.value


def test_password_upload_arrives_complete_with_progress(
    sshd_server: SshdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "members.txt", 3 * 1024 * 1024 + 17)
    progress = ProgressLog()
    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        result = transport.upload(local, "members.txt", progress=progress)
    assert result.bytes_sent == local.stat().st_size
    assert result.remote_path == str(on_disk / "members.txt")
    assert listing(on_disk) == ["members.txt"]
    assert sha256(on_disk / "members.txt") == sha256(local)
    progress.check_monotonic_to(local.stat().st_size)


def test_key_login_without_password(sshd_server: SshdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "a.bin", 1000)
    endpoint = sshd_server.endpoint(
        directory=remote_dir, password=None, private_key=sshd_server.private_key
    )
    with open_transport(endpoint) as transport:
        transport.upload(local, "a.bin")
    assert sha256(on_disk / "a.bin") == sha256(local)


def test_passphrase_protected_key(sshd_server: SshdServer, tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(b"open sesame"),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    sshd_server.authorize_key(public)
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "k.bin", 10)
    base = {"directory": remote_dir, "password": None, "private_key": text}
    with open_transport(sshd_server.endpoint(**base, private_key_passphrase="open sesame")) as t:
        t.upload(local, "k.bin")
    assert listing(on_disk) == ["k.bin"]
    for passphrase, words in ((None, "passphrase"), ("wrong", "wrong passphrase")):
        with pytest.raises(DeliveryError) as info:
            open_transport(
                sshd_server.endpoint(**base, private_key_passphrase=passphrase)
            ).connect()
        assert info.value.kind is ErrorKind.BAD_KEY
        assert words in info.value.message
        assert info.value.retryable is False


def test_wrong_password_is_an_auth_error_and_not_retried(
    sshd_server: SshdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    log_before = sshd_server.log_path.read_text()
    error = _upload_fails(
        sshd_server.endpoint(directory=remote_dir, password="not-the-password"),
        random_file(tmp_path / "x.bin", 10),
        "x.bin",
    )
    assert error.kind is ErrorKind.AUTH
    assert error.retryable is False
    assert "lsync-test" in error.message
    assert "password" in error.message
    assert listing(on_disk) == []
    new_log = sshd_server.log_path.read_text()[len(log_before) :]
    assert "Failed password for lsync-test" in new_log


def test_unknown_key_is_refused(sshd_server: SshdServer) -> None:
    other_key, _, _ = ed25519_keypair()
    endpoint = sshd_server.endpoint(password=None, private_key=other_key)
    with pytest.raises(DeliveryError) as info:
        open_transport(endpoint).connect()
    assert info.value.kind is ErrorKind.AUTH


def test_first_test_returns_the_host_key_to_accept(sshd_server: SshdServer) -> None:
    result = check_connection(sshd_server.endpoint(host_key_fingerprint=None))
    assert result.ok, result.message
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(sshd_server.workdir / "host_key.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert result.host_key_fingerprint == printed == sshd_server.host_key_fingerprint
    assert result.host_key_type == "ssh-ed25519"
    assert result.elapsed_seconds < 10
    assert temp_files(sshd_server.root) == []  # the probe file was removed


def test_transfers_need_a_pinned_host_key(sshd_server: SshdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "x.bin", 10)
    endpoint = sshd_server.endpoint(directory=remote_dir, host_key_fingerprint=None)
    error = _upload_fails(endpoint, local, "x.bin")
    assert error.kind is ErrorKind.HOST_KEY_UNKNOWN
    assert error.retryable is False
    assert error.server_fingerprint == sshd_server.host_key_fingerprint
    # A connection opened by test() (which accepts the key for display) cannot send files.
    transport = open_transport(endpoint)
    try:
        assert transport.test().host_key_fingerprint == sshd_server.host_key_fingerprint
        with pytest.raises(DeliveryError) as info:
            transport.upload(local, "x.bin")
        assert info.value.kind is ErrorKind.HOST_KEY_UNKNOWN
    finally:
        transport.close()
    assert listing(on_disk) == []


def test_changed_host_key_is_refused_before_logging_in(
    sshd_server: SshdServer, tmp_path: Path
) -> None:
    pinned = sshd_server.endpoint()
    local = random_file(tmp_path / "x.bin", 10)
    with sshd_server.replaced_host_key() as new_fingerprint:
        assert new_fingerprint != pinned.host_key_fingerprint
        log_before = sshd_server.log_path.read_text()
        error = _upload_fails(pinned, local, "x.bin")
        result = check_connection(pinned)
        new_log = sshd_server.log_path.read_text()[len(log_before) :]
    assert error.kind is ErrorKind.HOST_KEY_CHANGED
    assert error.retryable is False
    assert new_fingerprint in error.message
    assert pinned.host_key_fingerprint in error.message
    assert error.server_fingerprint == new_fingerprint
    assert not result.ok
    assert result.error_kind is ErrorKind.HOST_KEY_CHANGED
    assert result.host_key_fingerprint == new_fingerprint  # shown to the user to re-confirm
    # Neither the password nor a key signature was offered to the unknown server.
    assert "password" not in new_log.lower()
    assert "Accepted" not in new_log
    assert listing(sshd_server.root).count("x.bin") == 0


def test_missing_directory(sshd_server: SshdServer) -> None:
    endpoint = sshd_server.endpoint(directory="no/such/dir")
    result = check_connection(endpoint)
    assert not result.ok
    assert result.error_kind is ErrorKind.NO_DIRECTORY
    assert "no/such/dir" in result.message
    assert result.retryable is False


def test_permission_denied(sshd_server: SshdServer, tmp_path: Path) -> None:
    endpoint = sshd_server.endpoint(directory=sshd_server.readonly_dir)
    result = check_connection(endpoint)
    assert not result.ok
    assert result.error_kind is ErrorKind.PERMISSION
    error = _upload_fails(endpoint, random_file(tmp_path / "x.bin", 10), "x.bin")
    assert error.kind is ErrorKind.PERMISSION
    assert error.retryable is False
    assert listing(sshd_server.root / sshd_server.readonly_dir) == []


def test_overwrite_policy(sshd_server: SshdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    first = random_file(tmp_path / "v1", 5000)
    second = random_file(tmp_path / "v2", 7000)
    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        transport.upload(first, "data.txt")
        transport.upload(second, "data.txt", overwrite=True)
        assert sha256(on_disk / "data.txt") == sha256(second)
        with pytest.raises(DeliveryError) as info:
            transport.upload(first, "data.txt", overwrite=False)
        assert info.value.kind is ErrorKind.REMOTE_EXISTS
        assert info.value.retryable is False
        transport.upload(first, "other.txt", overwrite=False)
    assert sha256(on_disk / "data.txt") == sha256(second)
    assert listing(on_disk) == ["data.txt", "other.txt"]


def test_final_name_appears_only_when_complete(sshd_server: SshdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "big.txt", 24 * 1024 * 1024)
    seen: list[list[str]] = []
    progress = ProgressLog(at=8 * 1024 * 1024, action=lambda: seen.append(listing(on_disk)))
    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        transport.upload(local, "big.txt", progress=progress)
    [during] = seen
    assert "big.txt" not in during
    assert len(during) == 1
    assert during[0].startswith(".big.txt.")
    assert during[0].endswith(".part")
    assert listing(on_disk) == ["big.txt"]


def test_server_stopped_mid_transfer_leaves_no_final_file(
    sshd_server: SshdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "big.txt", 48 * 1024 * 1024)
    progress = ProgressLog(at=4 * 1024 * 1024, action=sshd_server.stop)
    try:
        error = _upload_fails(
            sshd_server.endpoint(directory=remote_dir),
            local,
            "big.txt",
            progress=progress,
            temp_token="t7",
        )
    finally:
        sshd_server.restart()
    assert progress.fired
    assert error.kind is ErrorKind.CONNECTION_LOST
    assert error.retryable is True
    assert "big.txt" not in listing(on_disk)
    # The dead connection could not remove its temporary file ...
    assert temp_files(on_disk) == [".big.txt.t7.part"]
    # ... and the retry of the same transfer (same token) replaces it and succeeds.
    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        transport.upload(local, "big.txt", temp_token="t7")
    assert sha256(on_disk / "big.txt") == sha256(local)
    assert listing(on_disk) == ["big.txt"]


def test_cancelled_upload_removes_its_temporary_file(
    sshd_server: SshdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "big.txt", 16 * 1024 * 1024)

    class Stop(Exception):
        pass

    def cancel() -> None:
        raise Stop

    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        with pytest.raises(Stop):
            transport.upload(local, "big.txt", progress=ProgressLog(at=2 << 20, action=cancel))
        assert listing(on_disk) == []
        transport.upload(local, "big.txt")  # the connection is still usable
    assert listing(on_disk) == ["big.txt"]


def test_names_with_spaces_and_non_ascii(sshd_server: SshdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    name = "Mitglieder Übersicht été 2024 数据.txt.gz"
    local = random_file(tmp_path / "x", 1234)
    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        result = transport.upload(local, name)
    assert listing(on_disk) == [name]
    assert result.remote_path.endswith("/" + name)


def test_disk_full(sshd_server: SshdServer, small_disk, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    small_disk(on_disk, 1024 * 1024)
    error = _upload_fails(
        sshd_server.endpoint(directory=remote_dir), random_file(tmp_path / "x", 3 << 20), "x.bin"
    )
    assert error.kind is ErrorKind.DISK_FULL
    assert error.retryable is True
    assert listing(on_disk) == []


def test_refused_connection(sshd_server: SshdServer, closed_port: int) -> None:
    result = check_connection(sshd_server.endpoint(port=closed_port))
    assert result.error_kind is ErrorKind.REFUSED
    assert result.retryable is True
    assert str(closed_port) in result.message


def test_unknown_host_name(sshd_server: SshdServer) -> None:
    result = check_connection(sshd_server.endpoint(host="no-such-host.invalid"))
    assert result.error_kind is ErrorKind.DNS
    assert result.retryable is False
    assert "no-such-host.invalid" in result.message


def test_silent_server_times_out(sshd_server: SshdServer, silent_port: int) -> None:
    started = time.monotonic()
    result = check_connection(sshd_server.endpoint(port=silent_port, timeout=0.5))
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.retryable is True
    assert time.monotonic() - started < 5


def test_connection_test_has_an_overall_deadline(sshd_server: SshdServer, silent_port: int) -> None:
    started = time.monotonic()
    result = check_connection(sshd_server.endpoint(port=silent_port, timeout=60), deadline=1.0)
    assert result.error_kind is ErrorKind.TIMEOUT
    assert time.monotonic() - started < 5
    assert threading.active_count() < 50  # no pile-up of paramiko threads


def test_server_hanging_mid_transfer_times_out(sshd_server: SshdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "big.txt", 64 * 1024 * 1024)
    progress = ProgressLog(at=4 * 1024 * 1024, action=sshd_server.freeze_sessions)
    started = time.monotonic()
    try:
        error = _upload_fails(
            sshd_server.endpoint(directory=remote_dir, timeout=1.0),
            local,
            "x.txt",
            progress=progress,
        )
    finally:
        sshd_server.thaw_sessions()
    assert progress.fired
    assert error.kind is ErrorKind.TIMEOUT
    assert error.retryable is True
    assert time.monotonic() - started < 10
    assert "x.txt" not in listing(on_disk)


def test_large_files_use_two_channels(sshd_server: SshdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = sshd_server.fresh_dir()
    local = random_file(tmp_path / "big.txt", 24 * 1024 * 1024)
    log_before = sshd_server.log_path.read_text()
    with open_transport(sshd_server.endpoint(directory=remote_dir)) as transport:
        transport.upload(local, "big.txt")
        transport.upload(local, "again.txt")  # the second channel is reused
    new_log = sshd_server.log_path.read_text()[len(log_before) :]
    assert sha256(on_disk / "big.txt") == sha256(local)
    assert sha256(on_disk / "again.txt") == sha256(local)
    sessions = [line for line in new_log.splitlines() if "Starting session" in line]
    assert [line.rsplit(" id ", 1)[1] for line in sessions] == ["0", "1"]


def test_a_server_allowing_one_channel_still_gets_large_files(tmp_path: Path) -> None:
    server = SshdServer.create(extra_config="MaxSessions 1")
    try:
        remote_dir, on_disk = server.fresh_dir()
        local = random_file(tmp_path / "big.txt", 24 * 1024 * 1024)
        with open_transport(server.endpoint(directory=remote_dir)) as transport:
            transport.upload(local, "big.txt")
        assert listing(on_disk) == ["big.txt"]
        assert sha256(on_disk / "big.txt") == sha256(local)
        assert "no more sessions" in server.log_path.read_text().lower()
    finally:
        server.cleanup()


def test_connect_that_hangs_times_out_even_in_a_test(
    sshd_server: SshdServer, blackhole_port: int
) -> None:
    started = time.monotonic()
    result = check_connection(sshd_server.endpoint(port=blackhole_port, timeout=0.5))
    assert result.error_kind is ErrorKind.TIMEOUT
    result = check_connection(sshd_server.endpoint(port=blackhole_port, timeout=60), deadline=1.0)
    assert result.error_kind is ErrorKind.TIMEOUT
    assert time.monotonic() - started < 5
