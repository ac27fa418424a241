"""Test connection: connect, authenticate, write and remove a probe file, and show the
server's host key (SFTP) or certificate (FTPS) fingerprint for the user to accept.

A key or certificate already pinned for the same host is checked before logging in, as
transfers do: a server that shows another one never sees the password, and the test
reports the change with the presented fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.errors import ValidationError
from webapp.models.syncs import Destination
from webapp.models.users import User
from webapp.services import audit, destinations
from webapp.services.permissions import SYNC_CONFIGURE, require

TEST_TIMEOUT_SECONDS = 10.0


@dataclass
class Outcome:
    ok: bool
    message: str
    host_key_fingerprint: str | None = None
    host_key_type: str | None = None
    tls_fingerprint: str | None = None
    tls_not_after: datetime | None = None  # recorded with the pin (expiry warnings)
    pinned: str | None = None  # the fingerprint already stored, if any
    changed: bool = False  # the server shows another key than the pinned one
    retryable: bool | None = None


def run(
    raw: dict[str, Any], existing: Destination | None, *, sync_id: int, user: User | None
) -> Outcome:
    from delivery.errors import ErrorKind
    from delivery.transports import Endpoint, check_connection

    if user is not None:
        require(user, SYNC_CONFIGURE)
    try:
        data = destinations.clean(raw, existing=existing)
    except ValidationError as exc:
        return Outcome(ok=False, message="; ".join(exc.errors.values()))
    password = data.password or (destinations.password_of(existing) if existing else None)
    private_key = data.private_key or (destinations.private_key_of(existing) if existing else None)
    pinned_host = existing.host_key_fingerprint if existing and existing.host == data.host else None
    pinned_tls = existing.tls_fingerprint if existing and existing.host == data.host else None
    endpoint = Endpoint(
        protocol=data.protocol.value,
        host=data.host,
        port=data.port,
        directory=data.directory,
        username=data.username,
        password=password,
        private_key=private_key,
        # A pinned key is checked before logging in (the password never reaches a server
        # that shows another key), exactly as transfers do; unpinned, the presented key is
        # returned for the user to accept.
        host_key_fingerprint=pinned_host,
        host_key_type=existing.host_key_type if existing and pinned_host else None,
        tls_fingerprint=data.tls_fingerprint or pinned_tls,
        timeout=TEST_TIMEOUT_SECONDS,
    )
    result = check_connection(endpoint, deadline=TEST_TIMEOUT_SECONDS)
    outcome = Outcome(
        ok=result.ok,
        message=result.message,
        host_key_fingerprint=result.host_key_fingerprint,
        host_key_type=result.host_key_type,
        tls_fingerprint=result.tls_fingerprint,
        tls_not_after=result.tls_not_after,
        pinned=pinned_host or pinned_tls,
        retryable=result.retryable,
    )
    if result.error_kind == ErrorKind.CERT_MISMATCH:
        outcome.changed = True
    if result.error_kind == ErrorKind.HOST_KEY_CHANGED:
        outcome.changed = True
        outcome.message = (
            f"Host key changed: the server now shows {result.host_key_fingerprint}, "
            f"but {pinned_host} is pinned. Transfers are refused until you accept the new key "
            "(only if the server's administrator confirms the change)."
        )
    audit.record(
        "destination.test",
        obj=existing,
        sync_id=sync_id,
        detail={
            "host": data.host,
            "protocol": data.protocol.value,
            "ok": outcome.ok,
            "message": outcome.message,
        },
        user=user,
    )
    return outcome
