"""Sockets and the network errors both SFTP and FTPS share.

Which kind a socket failure becomes decides whether the job runner retries, so the
mapping lives in one place: name resolution, refusal, unreachable networks, timeouts,
and a connection that drops (reset, broken pipe, EOF, a TLS stream cut short).
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

from delivery.errors import DeliveryError, ErrorKind, dns_error_retryable, make_error

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
_LOST = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ESHUTDOWN, errno.EBADF}


def network_error(exc: BaseException, **context: Any) -> DeliveryError | None:
    """The :class:`DeliveryError` for a socket-level failure, or None if it is not one."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, socket.gaierror):
        return make_error(ErrorKind.DNS, detail, retryable=dns_error_retryable(exc), **context)
    if isinstance(exc, ConnectionRefusedError):
        return make_error(ErrorKind.REFUSED, detail, **context)
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return make_error(ErrorKind.TIMEOUT, detail, **context)
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError | EOFError):
        return make_error(
            ErrorKind.CONNECTION_LOST, detail, reason="the server closed it", **context
        )
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return make_error(ErrorKind.UNREACHABLE, detail, **context)
    if isinstance(exc, ConnectionError) or (isinstance(exc, OSError) and exc.errno in _LOST):
        reason = exc.strerror or type(exc).__name__
        return make_error(ErrorKind.CONNECTION_LOST, detail, reason=reason.lower(), **context)
    return None


def open_socket(address: tuple[str, int], timeout: float, context: dict[str, Any]) -> socket.socket:
    """A connected TCP socket, or a :class:`DeliveryError` (worded with ``context``)."""
    try:
        sock = socket.create_connection(address, timeout=timeout)
        # Bulk data goes out in full segments anyway; without Nagle the short tail of each
        # request (and each small command) leaves at once instead of waiting for an ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except OSError as exc:
        error = network_error(exc, **context)
        if error is None:
            error = make_error(ErrorKind.CONNECTION_LOST, repr(exc), reason=str(exc), **context)
        raise error from exc
