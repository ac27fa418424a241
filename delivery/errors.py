"""Delivery errors a user can act on.

A transfer fails for a reason that somebody has to fix: this machine, the network, the
receiver, or the person who configured the destination. Each failure is one
:class:`ErrorKind`; its message says in one sentence what happened and what to do, its
``detail`` keeps the technical text for the log, and ``retryable`` tells the job runner
whether trying again later can help. Retrying is never harmful for network trouble, but
it is for a rejected login (accounts get locked) and for a changed host key or certificate
(the retry would talk to the same, possibly hostile, server), so those never retry.

======================  =========  ====================================================
kind                    retryable  meaning (the message tells the user what to fix)
======================  =========  ====================================================
dns                     yes        the host name does not resolve (a typo is
                                   permanent: "name not known" is not retryable, a
                                   resolver outage "try again" is)
refused                 yes        nothing listens on that port (wrong port, service down)
unreachable             yes        no route to the host (network or firewall)
timeout                 yes        the server did not answer in time
auth                    no         user name, password or key rejected
bad_key                 no         the private key text or its passphrase is unusable
host_key_changed        no         the SFTP server shows a different key than the pinned one
host_key_unknown        no         no host key pinned yet: run "Test connection" first
tls                     no         the TLS handshake failed (mode, protocol version, ciphers)
cert_untrusted          no         certificate not signed by a trusted CA (self-signed:
                                   pin its fingerprint)
cert_mismatch           no         certificate differs from the pinned one, or is not
                                   issued for this host name
permission              no         the user may not write, rename or delete there
no_directory            no         the remote directory does not exist
disk_full               yes        the receiver is out of space or over quota
remote_exists           no         the final name exists and overwriting is off
size_mismatch           yes        the stored size differs from the local size
server_error            yes        a temporary server-side error (FTP 4xx replies)
protocol                no         the server answered something unexpected
                                   (wrong protocol on that port, unsupported feature)
connection_lost         yes        the connection broke during the session
encryption              no         PGP encryption failed (recipient key unusable)
local                   no         a local file is missing or unreadable
config                  no         the destination settings are incomplete or invalid
======================  =========  ====================================================

``tests/unit/delivery/test_errors.py`` checks this table against :data:`RETRYABLE`.
"""

from __future__ import annotations

import socket
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    DNS = "dns"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH = "auth"
    BAD_KEY = "bad_key"
    HOST_KEY_CHANGED = "host_key_changed"
    HOST_KEY_UNKNOWN = "host_key_unknown"
    TLS = "tls"
    CERT_UNTRUSTED = "cert_untrusted"
    CERT_MISMATCH = "cert_mismatch"
    PERMISSION = "permission"
    NO_DIRECTORY = "no_directory"
    DISK_FULL = "disk_full"
    REMOTE_EXISTS = "remote_exists"
    SIZE_MISMATCH = "size_mismatch"
    SERVER_ERROR = "server_error"
    PROTOCOL = "protocol"
    CONNECTION_LOST = "connection_lost"
    ENCRYPTION = "encryption"
    LOCAL = "local"
    CONFIG = "config"


RETRYABLE: dict[ErrorKind, bool] = {
    ErrorKind.DNS: True,
    ErrorKind.REFUSED: True,
    ErrorKind.UNREACHABLE: True,
    ErrorKind.TIMEOUT: True,
    ErrorKind.AUTH: False,
    ErrorKind.BAD_KEY: False,
    ErrorKind.HOST_KEY_CHANGED: False,
    ErrorKind.HOST_KEY_UNKNOWN: False,
    ErrorKind.TLS: False,
    ErrorKind.CERT_UNTRUSTED: False,
    ErrorKind.CERT_MISMATCH: False,
    ErrorKind.PERMISSION: False,
    ErrorKind.NO_DIRECTORY: False,
    ErrorKind.DISK_FULL: True,
    ErrorKind.REMOTE_EXISTS: False,
    ErrorKind.SIZE_MISMATCH: True,
    ErrorKind.SERVER_ERROR: True,
    ErrorKind.PROTOCOL: False,
    ErrorKind.CONNECTION_LOST: True,
    ErrorKind.ENCRYPTION: False,
    ErrorKind.LOCAL: False,
    ErrorKind.CONFIG: False,
}

# One sentence each: what happened; what to fix. Placeholders come from the context the
# raising code knows (host, port, user, directory, name, reason, ...).
MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.DNS: (
        'The server name "{host}" could not be found; check the server address '
        "(and this machine's DNS if the name is right)."
    ),
    ErrorKind.REFUSED: (
        "The server {host} refused the connection on port {port}; check the port and "
        "that the {service} service is running there."
    ),
    ErrorKind.UNREACHABLE: (
        "The server {host} cannot be reached from this machine; check the address and "
        "the network or firewall in between."
    ),
    ErrorKind.TIMEOUT: (
        "The server {host}:{port} did not answer within {timeout} seconds; check the address "
        "and port, and that a firewall lets this machine through."
    ),
    ErrorKind.AUTH: (
        'The server rejected the login of user "{user}"; check the user name and the '
        "password or private key."
    ),
    ErrorKind.BAD_KEY: (
        "The private key could not be used ({reason}); paste the whole key "
        "(OpenSSH or PEM format) and its passphrase if it has one."
    ),
    ErrorKind.HOST_KEY_CHANGED: (
        "The server's host key has changed (accepted {expected}, now {actual}); confirm "
        "the new key with the receiver before accepting it, because someone may be "
        "intercepting the connection."
    ),
    ErrorKind.HOST_KEY_UNKNOWN: (
        'The server\'s host key has not been accepted yet; run "Test connection" and '
        "accept the key before sending files."
    ),
    ErrorKind.TLS: (
        "The TLS handshake with {host}:{port} failed ({reason}); check that the server "
        "offers {service} on that port."
    ),
    ErrorKind.CERT_UNTRUSTED: (
        "The server's certificate is not trusted ({reason}); if the receiver uses a "
        "self-signed certificate, confirm its fingerprint with them and pin it."
    ),
    ErrorKind.CERT_MISMATCH: (
        "The server's certificate does not match ({reason}); confirm the certificate "
        "with the receiver before pinning the new one, because someone may be "
        "intercepting the connection."
    ),
    ErrorKind.PERMISSION: (
        'User "{user}" may not write in "{directory}" on the server; ask the receiver for '
        "permission to create, rename and delete files there."
    ),
    ErrorKind.NO_DIRECTORY: (
        'The directory "{directory}" does not exist on the server (or user "{user}" may '
        "not open it); correct the server directory or ask the receiver to create it."
    ),
    ErrorKind.DISK_FULL: (
        "The server has no space left for {name}; ask the receiver to free space or "
        "raise the quota, then retry."
    ),
    ErrorKind.REMOTE_EXISTS: (
        '"{name}" already exists on the server and overwriting is off; remove the file '
        "there or allow overwriting."
    ),
    ErrorKind.SIZE_MISMATCH: (
        'The server holds {remote_size} bytes of "{name}" instead of {local_size}; the '
        "copy was incomplete and can be retried."
    ),
    ErrorKind.SERVER_ERROR: (
        "The server reported a temporary error ({reason}); retry later, and if this "
        "persists ask the receiver to check their server."
    ),
    ErrorKind.PROTOCOL: (
        "The server answered in an unexpected way ({reason}); check that the protocol "
        "and port match the server (SFTP, FTPS explicit or FTPS implicit)."
    ),
    ErrorKind.CONNECTION_LOST: (
        "The connection to {host}:{port} was lost ({reason}); no file was left under the "
        "final name and the transfer can be retried."
    ),
    ErrorKind.ENCRYPTION: (
        "PGP encryption failed ({reason}); check the recipient public keys of this sync."
    ),
    ErrorKind.LOCAL: (
        "A local file could not be used ({reason}); check the export folder on this "
        "machine (disk space and permissions)."
    ),
    ErrorKind.CONFIG: ("The destination settings are not usable ({reason}); correct them."),
}


class _Context(dict[str, Any]):
    """Format context that renders a missing value as "?" rather than failing."""

    def __missing__(self, key: str) -> str:
        return "?"


class DeliveryError(Exception):
    """A delivery failure with a kind, a user-facing message and a technical detail.

    ``server_fingerprint``/``server_key_type``/``server_subject`` carry what the server
    presented when a host key or certificate was refused, so that a settings page can
    show it (and, after the user confirms it out of band, pin it).
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        detail: str = "",
        *,
        retryable: bool | None = None,
        server_fingerprint: str | None = None,
        server_key_type: str | None = None,
        server_subject: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = ErrorKind(kind)
        self.message = message
        self.detail = detail
        self.retryable = RETRYABLE[self.kind] if retryable is None else retryable
        self.server_fingerprint = server_fingerprint
        self.server_key_type = server_key_type
        self.server_subject = server_subject

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"DeliveryError({self.kind.value!r}, {self.message!r}, {self.detail!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Job queues pickle exceptions; the default reduce would lose the keywords.
        return (_rebuild, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """Plain values to store on a transfer row or send as JSON."""
        return {
            "kind": self.kind.value,
            "retryable": self.retryable,
            "message": self.message,
            "detail": self.detail,
            "server_fingerprint": self.server_fingerprint,
            "server_key_type": self.server_key_type,
            "server_subject": self.server_subject,
        }


def _rebuild(data: dict[str, Any]) -> DeliveryError:
    return DeliveryError(
        ErrorKind(data["kind"]),
        data["message"],
        data["detail"],
        retryable=data["retryable"],
        server_fingerprint=data["server_fingerprint"],
        server_key_type=data["server_key_type"],
        server_subject=data["server_subject"],
    )


def make_error(
    kind: ErrorKind,
    detail: str = "",
    *,
    retryable: bool | None = None,
    server_fingerprint: str | None = None,
    server_key_type: str | None = None,
    server_subject: str | None = None,
    **context: Any,
) -> DeliveryError:
    """Build a :class:`DeliveryError` whose message is the kind's template filled in."""
    message = MESSAGES[kind].format_map(_Context(context))
    return DeliveryError(
        kind,
        message,
        detail,
        retryable=retryable,
        server_fingerprint=server_fingerprint,
        server_key_type=server_key_type,
        server_subject=server_subject,
    )


def dns_error_retryable(exc: socket.gaierror) -> bool:
    """A resolver outage may pass; a name that does not exist will not."""
    permanent = {getattr(socket, name, None) for name in ("EAI_NONAME", "EAI_NODATA")}
    permanent.discard(None)
    return exc.errno not in permanent
