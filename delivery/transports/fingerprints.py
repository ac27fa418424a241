"""Fingerprints in the forms people compare: OpenSSH's ``SHA256:...`` and certificate hex.

A pinned value may be pasted by hand (from ``ssh-keygen -lf`` or a browser's certificate
viewer), so the normalizers accept the usual spellings and return one canonical form:
``SHA256:`` plus unpadded base64 for host keys, 64 lower-case hex digits for certificates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime

from cryptography import x509

_HEX = re.compile(r"[0-9a-f]{64}")


def ssh_fingerprint(key_blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob (as ``ssh-keygen -lf`` prints it)."""
    digest = hashlib.sha256(key_blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def normalize_ssh_fingerprint(text: str) -> str:
    value = (text or "").strip()
    if value.upper().startswith("SHA256:"):
        value = value[len("SHA256:") :]
    value = value.rstrip("=")
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            "A host key fingerprint looks like SHA256:AbC... (43 characters after the colon), "
            "as printed by ssh-keygen -lf."
        )
    return "SHA256:" + value


def tls_fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate, as 64 lower-case hex digits."""
    return hashlib.sha256(der).hexdigest()


def normalize_tls_fingerprint(text: str) -> str:
    value = (text or "").strip()
    # openssl prints "sha256 Fingerprint=AB:CD:..."; keep what follows the label.
    value = value.rsplit("=", 1)[-1]
    value = re.sub(r"[\s:]", "", value).lower()
    value = value.removeprefix("sha256")
    if not _HEX.fullmatch(value):
        raise ValueError(
            "A certificate fingerprint is the SHA-256 of the certificate: 64 hex digits, "
            "with or without colons."
        )
    return value


def certificate_not_after(der: bytes) -> datetime | None:
    """The certificate's notAfter (aware, UTC), recorded with a pin for expiry warnings."""
    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:
        return None


def certificate_subject(der: bytes) -> str:
    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        return ""
