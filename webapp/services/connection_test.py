"""Test connection: connect, authenticate, write and remove a probe file, and show the
server's host key (SFTP) or certificate (FTPS) fingerprint for the user to accept.

The test runs in a worker, never in a web thread (it may wait up to 10 s for a server):
``start`` checks the form and the permission, enqueues ``jobs.connection_test.test`` and
returns a token; the page polls ``outcome(token)`` every second until the job has stored
its :class:`Outcome` under that token in Redis (for a few minutes, readable by the same
user only). What goes to Redis holds no secret in clear: the job takes ids and the form's
plain fields, and a password or key typed into the form travels Fernet-encrypted with the
app's secrets key (and expires after two minutes); a stored one is loaded by the job
itself, and only for the endpoint it was entered for (host, port, protocol and user).

A key or certificate already pinned for the same host is checked before logging in, as
transfers do: a server that shows another one never sees the password, and the test
reports the change with the presented fingerprint. The host must resolve to addresses
the allow/deny list lets through (:mod:`webapp.services.address_policy`), and the page
shows a fixed sentence per kind of outcome, never the remote server's own text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets as token_source
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app
from redis import RedisError

from delivery.errors import ErrorKind
from loyalty.db import utcnow
from loyalty.errors import ValidationError
from webapp.models.syncs import Destination
from webapp.models.users import User
from webapp.services import audit, destinations, secrets
from webapp.services.address_policy import AddressRefused, checked_address
from webapp.services.installation import queue_prefix
from webapp.services.permissions import SYNC_CONFIGURE, require
from webapp.services.redis_client import redis_client

TEST_TIMEOUT_SECONDS = 10.0
OUTCOME_TTL_SECONDS = 300
SEALED_TTL_SECONDS = 120
# Fields of the form that go to the job as they are (no secret among them).
PLAIN_FIELDS = tuple(
    f for f in destinations.FIELDS if f not in ("password", "password_confirm", "private_key")
)


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
    pending: bool = False  # still queued or running: the page polls again
    # Which settings were tested (a keyed digest, see ``settings_digest``) and for which
    # stored destination: saving the same settings, or renewing that destination's pin,
    # may rely on this outcome.
    digest: str | None = None
    destination_id: int | None = None


# What the page says for each kind of failure. Fixed sentences: the remote server's own
# reply never reaches the page. Refused, silent, cut-off, TLS-less or foreign-protocol
# ports read alike, so the test tells no more about a port than "no such server there".
_NO_SERVER = (
    "No {service} server answered on {host}:{port}: the connection was refused, timed out "
    "or was closed, or something else listens there. Check the address, port and server type."
)
_MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.DNS: 'The server name "{host}" could not be found; check the server address.',
    ErrorKind.AUTH: 'The server rejected the login of user "{user}"; check the user name and '
    "the password or private key.",
    ErrorKind.BAD_KEY: "The private key could not be used; paste the whole key (OpenSSH or "
    "PEM format).",
    ErrorKind.HOST_KEY_UNKNOWN: "The server's host key has not been accepted yet.",
    ErrorKind.CERT_UNTRUSTED: "The server's certificate is not trusted; if the receiver uses "
    "a self-signed certificate, confirm its fingerprint with them and pin it.",
    ErrorKind.CERT_MISMATCH: "The server's certificate does not match the pinned one; confirm "
    "the certificate with the receiver before pinning the new one.",
    ErrorKind.PERMISSION: 'User "{user}" may not write in the server directory; ask the '
    "receiver for permission to create, rename and delete files there.",
    ErrorKind.NO_DIRECTORY: "The server directory does not exist (or the user may not open "
    "it); correct it or ask the receiver to create it.",
    ErrorKind.DISK_FULL: "The server has no space left for the test file.",
    ErrorKind.SIZE_MISMATCH: "The server did not keep the whole test file.",
    ErrorKind.CONFIG: "The destination settings are not usable; correct them.",
}


def start(
    raw: dict[str, Any], existing: Destination | None, *, sync_id: int, user: User
) -> str | Outcome:
    """Check the form and enqueue the test; a token to poll, or an Outcome at once when
    the form itself is refused (nothing is enqueued then)."""
    from webapp.services.dispatch import enqueue_connection_test

    require(user, SYNC_CONFIGURE)
    try:
        destinations.clean(raw, existing=existing)
    except ValidationError as exc:
        return Outcome(ok=False, message="; ".join(exc.errors.values()))
    typed = {
        "password": str(raw.get("password") or ""),
        "private_key": str(raw.get("private_key") or "").strip(),
    }
    sealed = secrets.encrypt(json.dumps(typed)) if any(typed.values()) else None
    plain = {k: str(raw.get(k) or "") for k in PLAIN_FIELDS}
    token = token_source.token_urlsafe(18)
    _store(token, {"user_id": user.id, "pending": True, "since": time.time()})
    enqueue_connection_test(
        token, sync_id, existing.id if existing else None, user.id, plain, sealed
    )
    return token


def run_job(
    token: str,
    sync_id: int,
    destination: Destination | None,
    user: User,
    plain: dict[str, str],
    sealed: str | None,
) -> Outcome:
    """The job's work: unseal what was typed, run the test, store the outcome."""
    raw: dict[str, Any] = dict(plain)
    if sealed:
        try:
            typed = json.loads(secrets.open_sealed(sealed, SEALED_TTL_SECONDS))
        except (InvalidToken, secrets.SecretUnreadable, ValueError):
            typed = None
        if typed is None:
            outcome = Outcome(ok=False, message="The test waited too long; press it again.")
            _store(token, {"user_id": user.id, **asdict(outcome)})
            return outcome
        raw.update(password=typed["password"], password_confirm=typed["password"])
        raw["private_key"] = typed["private_key"]
    outcome = run(raw, destination, sync_id=sync_id, user=user)
    outcome.digest = settings_digest(raw)
    outcome.destination_id = destination.id if destination is not None else None
    _store(token, {"user_id": user.id, **asdict(outcome)})
    return outcome


def settings_digest(raw: dict[str, Any]) -> str:
    """A keyed digest of what a test tried: server, port, type, user, directory and the
    typed secret (empty: the stored one). Saving the form with the same digest may record
    the test's outcome; the secret itself never goes to Redis, and without the app's key
    the digest says nothing about it."""
    from delivery.transports import DEFAULT_PORTS

    protocol = str(raw.get("protocol") or "").strip()
    port = str(raw.get("port") or "").strip() or str(DEFAULT_PORTS.get(protocol, ""))
    parts = [
        str(raw.get("host") or "").strip().lower(),
        port,
        protocol,
        str(raw.get("username") or "").strip(),
        str(raw.get("directory") or "").strip(),
        str(raw.get("password") or ""),
        str(raw.get("private_key") or "").strip(),
    ]
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, json.dumps(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def finished_outcome(token: str | None, user: User) -> Outcome | None:
    """The finished outcome of this user's test ``token``, or None."""
    if not token or len(token) > 64:
        return None
    found = outcome(token, user)
    if found is None or found.pending or found.digest is None:
        return None
    return found


def record_from_token(
    destination: Destination, token: str | None, raw: dict[str, Any], user: User
) -> bool:
    """After a save: the test the user ran on exactly these settings (same digest) becomes
    the destination's last test. False when there was none."""
    found = finished_outcome(token, user)
    if found is None or not hmac.compare_digest(found.digest or "", settings_digest(raw)):
        return False
    destination.last_test_at = utcnow()
    destination.last_test_ok = found.ok and not found.changed
    return True


def outcome(token: str, user: User) -> Outcome | None:
    """The stored outcome (``pending`` while the job has not finished); None when there
    is no such test of this user (expired, or someone else's)."""
    try:
        raw = redis_client().get(_key(token))
    except RedisError:
        return Outcome(ok=False, message="The test result cannot be read; try again.")
    if raw is None:
        return None
    data = json.loads(raw)
    if data.pop("user_id", None) != user.id:
        return None
    since = data.pop("since", None)
    if data.get("pending"):
        waited = time.time() - float(since or 0)
        limit = float(current_app.config["CONNECTION_TEST_QUEUE_SECONDS"]) + 30
        if waited > limit:
            return Outcome(
                ok=False, message="No worker ran the test in time; check that workers run."
            )
        return Outcome(ok=False, message="Testing…", pending=True)
    if data.get("tls_not_after"):
        data["tls_not_after"] = datetime.fromisoformat(data["tls_not_after"])
    return Outcome(**data)


def run(
    raw: dict[str, Any], existing: Destination | None, *, sync_id: int, user: User | None
) -> Outcome:
    """Run one test now, in this process (the job calls this; so do tests)."""
    from delivery.transports import DEFAULT_PORTS, Endpoint, check_connection

    if user is not None:
        require(user, SYNC_CONFIGURE)
    try:
        data = destinations.clean(raw, existing=existing)
    except ValidationError as exc:
        return Outcome(ok=False, message="; ".join(exc.errors.values()))
    port = data.port or DEFAULT_PORTS[data.protocol.value]
    same = existing is not None and destinations.same_endpoint(
        existing, data.host, data.port, data.protocol.value, data.username
    )
    # A stored secret only for the server it was entered for; a changed endpoint uses
    # what was typed, nothing else.
    password = data.password or (destinations.password_of(existing) if same and existing else None)
    private_key = data.private_key or (
        destinations.private_key_of(existing) if same and existing else None
    )
    pinned_host = existing.host_key_fingerprint if existing and existing.host == data.host else None
    pinned_tls = existing.tls_fingerprint if existing and existing.host == data.host else None
    context = {"host": data.host, "port": port, "user": data.username}
    try:
        address = checked_address(data.host, port)
    except AddressRefused as exc:
        outcome = Outcome(ok=False, message=str(exc))
        _audit(existing, sync_id, user, data.protocol.value, context, outcome, "refused_by_policy")
        return outcome
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
        connect_address=address,
    )
    result = check_connection(endpoint, deadline=TEST_TIMEOUT_SECONDS)
    if result.ok:
        message = (
            f"Connected to {data.host}:{port}, logged in as {data.username} and wrote a test file."
        )
    elif result.error_kind in _MESSAGES:
        message = _MESSAGES[result.error_kind].format(**context)
    else:
        message = _NO_SERVER.format(service=endpoint.service, **context)
    outcome = Outcome(
        ok=result.ok,
        message=message,
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
    kind = result.error_kind.value if result.error_kind else "ok"
    _audit(existing, sync_id, user, data.protocol.value, context, outcome, kind)
    if (
        existing is not None
        and not data.password
        and not data.private_key
        and same
        and data.directory == existing.directory
    ):
        # The stored settings themselves were tested: the list shows the outcome.
        existing.last_test_at = utcnow()
        existing.last_test_ok = outcome.ok and not outcome.changed
    return outcome


def _audit(
    existing: Destination | None,
    sync_id: int,
    user: User | None,
    protocol: str,
    context: dict[str, Any],
    outcome: Outcome,
    kind: str,
) -> None:
    audit.record(
        "destination.test",
        obj=existing,
        sync_id=sync_id,
        detail={
            "host": context["host"],
            "port": context["port"],
            "protocol": protocol,
            "ok": outcome.ok,
            "kind": kind,
        },
        user=user,
    )


def give_up(token: str, user_id: int, message: str) -> None:
    _store(token, {"user_id": user_id, **asdict(Outcome(ok=False, message=message))})


def _key(token: str) -> str:
    return f"{queue_prefix()}:connection-test:{token}"


def _store(token: str, data: dict[str, Any]) -> None:
    # The certificate's notAfter travels as ISO text (JSON has no datetime).
    when = data.get("tls_not_after")
    if isinstance(when, datetime):
        data = {**data, "tls_not_after": when.isoformat()}
    redis_client().set(_key(token), json.dumps(data), ex=OUTCOME_TTL_SECONDS)
