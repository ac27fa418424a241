"""Transports: one interface to put a deliverable on a receiver's server.

``open_transport(endpoint)`` returns the implementation for the endpoint's protocol:
SFTP (paramiko), FTPS explicit or implicit (ftplib with TLS session reuse), or a local
folder. All share the upload procedure of :mod:`delivery.transports.base` (temporary
name, size check, rename) and report failures as :class:`delivery.errors.DeliveryError`.

Typical use by the job runner::

    with open_transport(endpoint) as transport:          # connects, checks the pin
        result = transport.upload(path, name, progress=report)

and by the settings page: ``check_connection(endpoint)`` returns a :class:`TestResult`
(never raises a DeliveryError) with the fingerprint the user is asked to accept.
"""

from __future__ import annotations

from delivery.errors import ErrorKind, make_error
from delivery.transports.base import TEST_DEADLINE, Progress, Superseded, Transport, run_check
from delivery.transports.endpoint import DEFAULT_PORTS, PROTOCOLS, Endpoint
from delivery.transports.results import TestResult, UploadResult


def open_transport(endpoint: Endpoint) -> Transport:
    """The transport for ``endpoint.protocol``; nothing is connected yet."""
    if endpoint.protocol == "sftp":
        from delivery.transports.sftp import SFTPTransport

        return SFTPTransport(endpoint)
    if endpoint.protocol in ("ftps_explicit", "ftps_implicit"):
        from delivery.transports.ftps import FTPSTransport

        return FTPSTransport(endpoint)
    if endpoint.protocol == "local":
        from delivery.transports.local import LocalTransport

        return LocalTransport(endpoint)
    reason = f"unknown protocol {endpoint.protocol!r}"
    raise make_error(ErrorKind.CONFIG, reason, reason=reason)


def check_connection(endpoint: Endpoint, deadline: float = TEST_DEADLINE) -> TestResult:
    """ "Test connection": connect, log in, write and remove a probe; never raises."""
    return run_check(open_transport(endpoint), deadline)


__all__ = [
    "DEFAULT_PORTS",
    "PROTOCOLS",
    "TEST_DEADLINE",
    "Endpoint",
    "Progress",
    "Superseded",
    "TestResult",
    "Transport",
    "UploadResult",
    "check_connection",
    "open_transport",
]
