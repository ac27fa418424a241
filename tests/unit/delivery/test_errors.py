"""Error kinds: the documented table, messages, retry decisions and mappings."""

from __future__ import annotations

import errno
import pickle
import re
import socket

import pytest

import delivery.errors as errors_module
from delivery.errors import MESSAGES, RETRYABLE, DeliveryError, ErrorKind, make_error
from delivery.transports import Endpoint
from delivery.transports.ftps import FTPSTransport
from delivery.transports.net import network_error

pytestmark = [pytest.mark.nodb]

FULL_CONTEXT = {
    "host": "sftp.example.com",
    "port": 22,
    "user": "acme",
    "directory": "/in",
    "service": "SFTP (SSH)",
    "timeout": "10",
    "reason": "because",
    "expected": "SHA256:aaa",
    "actual": "SHA256:bbb",
    "name": "members.txt",
    "remote_size": 1,
    "local_size": 2,
}


def _documented_table() -> dict[str, bool]:
    table = {}
    for line in (errors_module.__doc__ or "").splitlines():
        match = re.match(r"^([a-z_]+)\s+(yes|no)\s", line)
        if match:
            table[match.group(1)] = match.group(2) == "yes"
    return table


def test_module_docstring_table_matches_the_retry_decisions() -> None:
    assert _documented_table() == {kind.value: RETRYABLE[kind] for kind in ErrorKind}


def test_every_kind_has_a_message_that_says_what_to_do() -> None:
    for kind in ErrorKind:
        message = make_error(kind, **FULL_CONTEXT).message
        assert "{" not in message, kind
        assert "?" not in message, kind
        assert message.endswith("."), kind
        # One sentence: what happened; what to fix (after the semicolon).
        assert message.count(";") >= 1, kind
    assert set(MESSAGES) == set(ErrorKind) == set(RETRYABLE)


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        (ErrorKind.AUTH, False),
        (ErrorKind.HOST_KEY_CHANGED, False),
        (ErrorKind.CERT_MISMATCH, False),
        (ErrorKind.PERMISSION, False),
        (ErrorKind.NO_DIRECTORY, False),
        (ErrorKind.TIMEOUT, True),
        (ErrorKind.REFUSED, True),
        (ErrorKind.CONNECTION_LOST, True),
        (ErrorKind.DISK_FULL, True),
    ],
)
def test_network_trouble_retries_and_configuration_problems_do_not(
    kind: ErrorKind, retryable: bool
) -> None:
    assert make_error(kind).retryable is retryable


def test_missing_context_does_not_break_the_message() -> None:
    error = make_error(ErrorKind.REFUSED)
    assert "?" in error.message
    assert str(error) == error.message


def test_errors_survive_pickling_with_every_field() -> None:
    error = make_error(
        ErrorKind.HOST_KEY_CHANGED,
        "technical",
        server_fingerprint="SHA256:x",
        server_key_type="ssh-ed25519",
        **FULL_CONTEXT,
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, as a job queue does
    assert copy.to_dict() == error.to_dict()
    assert isinstance(copy, DeliveryError)
    assert copy.kind is ErrorKind.HOST_KEY_CHANGED


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), ErrorKind.DNS, False),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), ErrorKind.DNS, True),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), ErrorKind.REFUSED, True),
        (TimeoutError("timed out"), ErrorKind.TIMEOUT, True),
        (OSError(errno.EHOSTUNREACH, "No route to host"), ErrorKind.UNREACHABLE, True),
        (ConnectionResetError(errno.ECONNRESET, "reset"), ErrorKind.CONNECTION_LOST, True),
        (BrokenPipeError(errno.EPIPE, "broken pipe"), ErrorKind.CONNECTION_LOST, True),
        (EOFError(), ErrorKind.CONNECTION_LOST, True),
    ],
)
def test_socket_failures_map_to_kinds(exc: BaseException, kind: ErrorKind, retryable: bool) -> None:
    error = network_error(exc, host="h", port=1)
    assert error is not None
    assert (error.kind, error.retryable) == (kind, retryable)


def test_non_network_exceptions_are_not_mapped() -> None:
    assert network_error(ValueError("bug")) is None
    assert network_error(FileNotFoundError(errno.ENOENT, "x")) is None


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("530 Login incorrect.", ErrorKind.AUTH),
        ("552 Exceeded storage allocation.", ErrorKind.DISK_FULL),
        ("452 Insufficient storage space.", ErrorKind.DISK_FULL),
        ("451 Failure writing to local file.", ErrorKind.DISK_FULL),
        ("451 Requested action aborted: local error.", ErrorKind.SERVER_ERROR),
        ("421 Too many connections.", ErrorKind.SERVER_ERROR),
        ("553 Could not create file.", ErrorKind.PERMISSION),
        ("426 Failure writing network stream.", ErrorKind.CONNECTION_LOST),
        ("522 SSL connection failed: session reuse required", ErrorKind.TLS),
        ("500 Unknown command.", ErrorKind.PROTOCOL),
    ],
)
def test_ftp_replies_map_to_kinds(reply: str, kind: ErrorKind) -> None:
    transport = FTPSTransport(Endpoint("ftps_explicit", "ftp.example.com", username="u"))
    error = transport._reply_error(reply, reply)
    assert error.kind is kind
    assert error.retryable is RETRYABLE[kind]
