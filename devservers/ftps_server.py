"""A pure-Python FTPS server (pyftpdlib, explicit AUTH TLS, TLS required) storing uploads
in one folder. Its self-signed certificate is created on first start and kept, so the
certificate fingerprint the demo destinations pin stays the same across restarts."""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def ensure_certificate(cert_path: Path, key_path: Path) -> str:
    """Create a self-signed certificate for 127.0.0.1 once; return its SHA-256 fingerprint (hex)."""
    if not cert_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loyalty Sync demo receiver")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        cert_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    der = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    return hashlib.sha256(der).hexdigest()


class DemoExtraMissing(RuntimeError):
    """The demo receivers' packages are an extra that a production install leaves out."""


def make_server(
    folder: Path, cert_path: Path, key_path: Path, port: int, username: str, password: str
) -> Any:
    try:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import TLS_FTPHandler
        from pyftpdlib.servers import FTPServer
    except ImportError as error:  # pyftpdlib, or the pyOpenSSL its TLS handler needs
        raise DemoExtraMissing(
            f"The demo FTPS receiver needs the `demo` extra ({error}): "
            "pip install -e '.[demo]' (make run and make install do it)."
        ) from error

    folder.mkdir(parents=True, exist_ok=True)
    authorizer = DummyAuthorizer()
    authorizer.add_user(username, password, str(folder), perm="elradfmwMT")

    class Handler(TLS_FTPHandler):  # type: ignore[misc]  # pyftpdlib ships no type hints
        pass

    Handler.certfile = str(cert_path)
    Handler.keyfile = str(key_path)
    Handler.authorizer = authorizer
    Handler.tls_control_required = True
    Handler.tls_data_required = True
    Handler.passive_ports = range(port + 1, port + 50)
    Handler.banner = "Loyalty Sync demo FTPS receiver"
    # Bind here rather than let pyftpdlib do it: its own bind leaks the socket when the
    # port is taken, and wraps the error so that its errno is lost.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
    except OSError:
        listener.close()
        raise
    return FTPServer(listener, Handler)
