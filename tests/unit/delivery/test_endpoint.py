"""Endpoint values, secret-free representation and fingerprint spellings."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from delivery.errors import DeliveryError, ErrorKind
from delivery.transports import Endpoint, open_transport
from delivery.transports.fingerprints import (
    normalize_ssh_fingerprint,
    normalize_tls_fingerprint,
    ssh_fingerprint,
)

pytestmark = [pytest.mark.nodb]


def test_repr_never_shows_secrets() -> None:
    endpoint = Endpoint(
        "sftp",
        "sftp.example.com",
        username="acme",
        password="hunter2-secret",
        private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nsecretkeymaterial\n",
        private_key_passphrase="pass-phrase-secret",
    )
    for text in (repr(endpoint), str(endpoint), f"{endpoint}", repr([endpoint])):
        assert "hunter2" not in text
        assert "secretkeymaterial" not in text
        assert "pass-phrase-secret" not in text
        assert "password=<set>" in text
        assert "acme@sftp.example.com:22" in text


@pytest.mark.parametrize(
    ("protocol", "port"), [("sftp", 22), ("ftps_explicit", 21), ("ftps_implicit", 990)]
)
def test_default_ports(protocol: str, port: int) -> None:
    assert Endpoint(protocol, "h").effective_port == port
    assert Endpoint(protocol, "h", port=2222).effective_port == 2222


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError, match="protocol"):
        Endpoint("ftp", "h")
    with pytest.raises(ValueError, match="Port"):
        Endpoint("sftp", "h", port=70000)


def test_open_transport_picks_the_protocol() -> None:
    names = {
        p: type(open_transport(Endpoint(p, "h", directory="/x"))).__name__
        for p in ("sftp", "ftps_explicit", "ftps_implicit", "local")
    }
    assert names == {
        "sftp": "SFTPTransport",
        "ftps_explicit": "FTPSTransport",
        "ftps_implicit": "FTPSTransport",
        "local": "LocalTransport",
    }


def test_ssh_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    public = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    (tmp_path / "key.pub").write_bytes(public + b" test\n")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / "key.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert ssh_fingerprint(base64.b64decode(public.split()[1])) == printed


def test_fingerprint_spellings_are_normalized() -> None:
    canonical = "SHA256:" + "A" * 43
    assert normalize_ssh_fingerprint(canonical) == canonical
    assert normalize_ssh_fingerprint("  sha256:" + "A" * 43 + "=  ") == canonical
    assert normalize_ssh_fingerprint("A" * 43) == canonical
    hexed = "ab" * 32
    assert normalize_tls_fingerprint(":".join(["AB"] * 32)) == hexed
    assert normalize_tls_fingerprint("SHA256 Fingerprint=" + hexed.upper()) == hexed
    for bad in ("", "SHA256:short", "MD5:aa:bb"):
        with pytest.raises(ValueError, match="ssh-keygen"):
            normalize_ssh_fingerprint(bad)
    with pytest.raises(ValueError, match="64 hex digits"):
        normalize_tls_fingerprint("ab" * 20)


def test_a_bad_pin_is_a_configuration_error_not_a_crash(tmp_path: Path) -> None:
    transport = open_transport(Endpoint("sftp", "h", host_key_fingerprint="nonsense"))
    transport.host_key_fingerprint = "SHA256:" + "A" * 43  # type: ignore[attr-defined]
    with pytest.raises(DeliveryError) as info:
        transport._check_host_key(accept_new=False)  # type: ignore[attr-defined]
    assert info.value.kind is ErrorKind.CONFIG
