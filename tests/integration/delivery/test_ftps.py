"""FTPS against a real vsftpd (TLS required, default require_ssl_reuse), explicit and implicit."""

from __future__ import annotations

import ftplib
import ssl
import time
from pathlib import Path

import pytest

from delivery.errors import DeliveryError, ErrorKind
from delivery.transports import check_connection, open_transport
from tests.fixtures.ftps import VsftpdServer
from tests.integration.delivery._helpers import (
    ProgressLog,
    listing,
    random_file,
    sha256,
    temp_files,
)

pytestmark = [pytest.mark.nodb, pytest.mark.integration]


@pytest.fixture(params=["explicit", "implicit"])
def ftps(request: pytest.FixtureRequest) -> VsftpdServer:
    name = "vsftpd_server" if request.param == "explicit" else "ftps_implicit_server"
    return request.getfixturevalue(name)


def _upload_fails(endpoint, local: Path, name: str, **kwargs) -> DeliveryError:
    with pytest.raises(DeliveryError) as info, open_transport(endpoint) as transport:
        transport.upload(local, name, **kwargs)
    return info.value


def test_server_requires_tls_session_reuse(vsftpd_server: VsftpdServer, tmp_path: Path) -> None:
    """The fixture is strict: plain ftplib (a new TLS session per data connection) fails."""
    context = ssl.create_default_context(cafile=str(vsftpd_server.cert_path))
    context.check_hostname = False
    ftp = ftplib.FTP_TLS(context=context, timeout=5)  # noqa: S321 - the point of the test
    try:
        ftp.connect(vsftpd_server.host, vsftpd_server.port)
        ftp.login(vsftpd_server.username, vsftpd_server.password)
        ftp.prot_p()
        source = random_file(tmp_path / "x", 100_000)
        with (
            open(source, "rb") as handle,
            pytest.raises((ssl.SSLError, ftplib.error_perm, OSError)),
        ):
            ftp.storbinary("STOR plain-ftplib.bin", handle)
    finally:
        ftp.close()
    assert "522 SSL connection failed: session reuse required" in vsftpd_server.log_path.read_text()


def test_pinned_upload_arrives_complete_with_progress(ftps: VsftpdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = ftps.fresh_dir()
    local = random_file(tmp_path / "members.txt", 5 * 1024 * 1024 + 3)
    progress = ProgressLog()
    with open_transport(ftps.endpoint(directory=remote_dir)) as transport:
        result = transport.upload(local, "members.txt", progress=progress)
        assert transport.tls_version in ("TLSv1.2", "TLSv1.3")  # type: ignore[attr-defined]
    assert result.remote_path == str(on_disk / "members.txt")
    assert listing(on_disk) == ["members.txt"]
    assert sha256(on_disk / "members.txt") == sha256(local)
    progress.check_monotonic_to(local.stat().st_size)


def test_connection_test_returns_the_certificate(ftps: VsftpdServer) -> None:
    result = check_connection(ftps.endpoint())
    assert result.ok, result.message
    assert result.tls_fingerprint == ftps.cert_fingerprint
    assert result.tls_subject == "CN=localhost"
    assert result.elapsed_seconds < 10
    assert temp_files(ftps.root) == []


def test_self_signed_certificate_without_pin_is_untrusted(ftps: VsftpdServer) -> None:
    result = check_connection(ftps.endpoint(tls_fingerprint=None))
    assert not result.ok
    assert result.error_kind is ErrorKind.CERT_UNTRUSTED
    assert result.retryable is False
    # What the settings page offers to pin, after the user confirms it with the receiver.
    assert result.tls_fingerprint == ftps.cert_fingerprint
    assert ftps.cert_fingerprint in result.message


def test_a_different_certificate_than_the_pinned_one_is_refused(
    ftps: VsftpdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = ftps.fresh_dir()
    endpoint = ftps.endpoint(directory=remote_dir, tls_fingerprint="00" * 32)
    error = _upload_fails(endpoint, random_file(tmp_path / "x", 10), "x.bin")
    assert error.kind is ErrorKind.CERT_MISMATCH
    assert error.retryable is False
    assert error.server_fingerprint == ftps.cert_fingerprint
    assert listing(on_disk) == []


def test_certificate_checked_against_trusted_cas_and_host_name(
    vsftpd_server: VsftpdServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Make the test certificate a trusted CA for this process, like a system CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(vsftpd_server.cert_path))
    remote_dir, on_disk = vsftpd_server.fresh_dir()
    local = random_file(tmp_path / "x", 100)
    by_name = vsftpd_server.endpoint(host="localhost", directory=remote_dir, tls_fingerprint=None)
    with open_transport(by_name) as transport:
        transport.upload(local, "x.bin")
    assert listing(on_disk) == ["x.bin"]
    # The certificate is for "localhost" only: by IP address the name does not match.
    by_ip = vsftpd_server.endpoint(directory=remote_dir, tls_fingerprint=None)
    result = check_connection(by_ip)
    assert result.error_kind is ErrorKind.CERT_MISMATCH
    assert result.retryable is False


def test_wrong_password(ftps: VsftpdServer) -> None:
    result = check_connection(ftps.endpoint(password="wrong"))
    assert result.error_kind is ErrorKind.AUTH
    assert result.retryable is False
    assert "lsync-test" in result.message


def test_missing_directory(ftps: VsftpdServer) -> None:
    result = check_connection(ftps.endpoint(directory="no/such/dir"))
    assert result.error_kind is ErrorKind.NO_DIRECTORY
    assert result.retryable is False
    assert "no/such/dir" in result.message


def test_permission_denied(ftps: VsftpdServer, tmp_path: Path) -> None:
    endpoint = ftps.endpoint(directory=ftps.readonly_dir)
    assert check_connection(endpoint).error_kind is ErrorKind.PERMISSION
    error = _upload_fails(endpoint, random_file(tmp_path / "x", 10), "x.bin")
    assert error.kind is ErrorKind.PERMISSION
    assert error.retryable is False
    assert listing(ftps.root / ftps.readonly_dir) == []


def test_overwrite_policy(vsftpd_server: VsftpdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = vsftpd_server.fresh_dir()
    first, second = random_file(tmp_path / "v1", 5000), random_file(tmp_path / "v2", 7000)
    with open_transport(vsftpd_server.endpoint(directory=remote_dir)) as transport:
        transport.upload(first, "data.txt")
        transport.upload(second, "data.txt", overwrite=True)
        assert sha256(on_disk / "data.txt") == sha256(second)
        with pytest.raises(DeliveryError) as info:
            transport.upload(first, "data.txt", overwrite=False)
        assert info.value.kind is ErrorKind.REMOTE_EXISTS
        assert info.value.retryable is False
    assert sha256(on_disk / "data.txt") == sha256(second)
    assert listing(on_disk) == ["data.txt"]


def test_final_name_appears_only_when_complete(vsftpd_server: VsftpdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = vsftpd_server.fresh_dir()
    local = random_file(tmp_path / "big.txt", 24 * 1024 * 1024)
    seen: list[list[str]] = []
    progress = ProgressLog(at=8 * 1024 * 1024, action=lambda: seen.append(listing(on_disk)))
    with open_transport(vsftpd_server.endpoint(directory=remote_dir)) as transport:
        transport.upload(local, "big.txt", progress=progress)
    [during] = seen
    assert len(during) == 1
    assert during[0].startswith(".big.txt.")
    assert during[0].endswith(".part")
    assert listing(on_disk) == ["big.txt"]


def test_server_stopped_mid_transfer_leaves_no_final_file(
    ftps: VsftpdServer, tmp_path: Path
) -> None:
    remote_dir, on_disk = ftps.fresh_dir()
    local = random_file(tmp_path / "big.txt", 48 * 1024 * 1024)
    progress = ProgressLog(at=4 * 1024 * 1024, action=ftps.stop)
    try:
        error = _upload_fails(
            ftps.endpoint(directory=remote_dir),
            local,
            "big.txt",
            progress=progress,
            temp_token="t7",
        )
    finally:
        ftps.restart()
    assert progress.fired
    assert error.kind is ErrorKind.CONNECTION_LOST
    assert error.retryable is True
    assert "big.txt" not in listing(on_disk)
    # The dead connection could not remove its temporary file ...
    assert temp_files(on_disk) == [".big.txt.t7.part"]
    # ... and the retry of the same transfer (same token) replaces it and succeeds.
    with open_transport(ftps.endpoint(directory=remote_dir)) as transport:
        transport.upload(local, "big.txt", temp_token="t7")
    assert sha256(on_disk / "big.txt") == sha256(local)
    assert listing(on_disk) == ["big.txt"]


def test_names_with_spaces_and_non_ascii(ftps: VsftpdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = ftps.fresh_dir()
    name = "Mitglieder Übersicht été 2024 数据.txt.gz"
    with open_transport(ftps.endpoint(directory=remote_dir)) as transport:
        transport.upload(random_file(tmp_path / "x", 1234), name)
    assert listing(on_disk) == [name]


def test_disk_full(vsftpd_server: VsftpdServer, small_disk, tmp_path: Path) -> None:
    remote_dir, on_disk = vsftpd_server.fresh_dir()
    small_disk(on_disk, 1024 * 1024)
    error = _upload_fails(
        vsftpd_server.endpoint(directory=remote_dir), random_file(tmp_path / "x", 3 << 20), "x.bin"
    )
    assert error.kind is ErrorKind.DISK_FULL
    assert error.retryable is True
    assert listing(on_disk) == []  # the partial temporary file was deleted


def test_implicit_client_on_an_explicit_port_says_so(vsftpd_server: VsftpdServer) -> None:
    result = check_connection(vsftpd_server.endpoint(protocol="ftps_implicit"))
    assert result.error_kind is ErrorKind.TLS
    assert result.retryable is False
    assert "explicit/implicit" in result.message


def test_explicit_client_on_an_implicit_port_times_out(ftps_implicit_server: VsftpdServer) -> None:
    started = time.monotonic()
    result = check_connection(ftps_implicit_server.endpoint(protocol="ftps_explicit", timeout=0.5))
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.retryable is True
    assert time.monotonic() - started < 5


def test_refused(vsftpd_server: VsftpdServer, closed_port: int) -> None:
    assert (
        check_connection(vsftpd_server.endpoint(port=closed_port)).error_kind is ErrorKind.REFUSED
    )


def test_server_hanging_mid_transfer_times_out(ftps: VsftpdServer, tmp_path: Path) -> None:
    remote_dir, on_disk = ftps.fresh_dir()
    local = random_file(tmp_path / "big.txt", 64 * 1024 * 1024)
    progress = ProgressLog(at=4 * 1024 * 1024, action=ftps.freeze_sessions)
    started = time.monotonic()
    try:
        error = _upload_fails(
            ftps.endpoint(directory=remote_dir, timeout=1.0), local, "x.txt", progress=progress
        )
    finally:
        ftps.thaw_sessions()
    assert progress.fired
    assert error.kind is ErrorKind.TIMEOUT
    assert error.retryable is True
    assert time.monotonic() - started < 10
    assert "x.txt" not in listing(on_disk)


def test_connect_that_hangs_times_out_even_in_a_test(
    vsftpd_server: VsftpdServer, blackhole_port: int
) -> None:
    started = time.monotonic()
    result = check_connection(vsftpd_server.endpoint(port=blackhole_port, timeout=60), deadline=1.0)
    assert result.error_kind is ErrorKind.TIMEOUT
    assert time.monotonic() - started < 5
