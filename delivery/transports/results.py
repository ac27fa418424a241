"""What a connection test and an upload report back: plain values for the caller to store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from delivery.errors import ErrorKind


@dataclass(frozen=True)
class TestResult:
    """What "Test connection" shows. ``ok`` is False only from :func:`check_connection`."""

    __test__ = False  # a result type, not a pytest test class

    ok: bool
    message: str
    elapsed_seconds: float
    host_key_fingerprint: str | None = None  # SFTP, "SHA256:..."
    host_key_type: str | None = None  # SFTP, e.g. "ssh-ed25519"
    tls_fingerprint: str | None = None  # FTPS, certificate SHA-256 hex
    tls_subject: str | None = None
    tls_not_after: datetime | None = None  # FTPS, the certificate's notAfter (UTC)
    error_kind: ErrorKind | None = None
    retryable: bool | None = None
    detail: str = ""


@dataclass(frozen=True)
class UploadResult:
    remote_path: str
    bytes_sent: int
    seconds: float


__all__ = ["TestResult", "UploadResult"]
