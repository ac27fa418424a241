"""FTP destinations of a sync: add, edit, delete, pin host keys.

Passwords and private keys are encrypted before they reach the model and are never
returned; an edit that leaves the password empty keeps the stored one. The model and
the database refuse a 7th destination and retries outside 0-5; this service says so
in words before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from delivery.transports import DEFAULT_PORTS
from delivery.transports.fingerprints import normalize_ssh_fingerprint, normalize_tls_fingerprint
from loyalty.errors import NotFound, ValidationError
from loyalty.text import CONTROL, clean_int, clean_text, parse_id
from webapp.extensions import db
from webapp.models.syncs import (
    MAX_DESTINATIONS,
    MAX_RETRIES,
    Destination,
    Marker,
    Protocol,
    Sync,
    check_host,
)
from webapp.models.users import User
from webapp.services import audit, secrets
from webapp.services.permissions import SYNC_CONFIGURE, require

# Fields a caller may set, in the order of the product's how-to.
FIELDS = (
    "name",
    "host",
    "protocol",
    "directory",
    "port",
    "username",
    "password",
    "password_confirm",
    "private_key",
    "retries",
    "host_key_fingerprint",
    "host_key_type",
    "tls_fingerprint",
    "marker",
    "marker_name",
)


@dataclass
class DestinationInput:
    """Cleaned form/CLI input; password None means "keep the stored one"."""

    name: str
    host: str
    protocol: Protocol
    directory: str
    port: int | None
    username: str
    password: str | None
    private_key: str | None
    retries: int
    host_key_fingerprint: str | None
    host_key_type: str | None
    tls_fingerprint: str | None
    tls_not_after: datetime | None = None  # the pinned certificate's notAfter, when known
    marker: Marker = Marker.NONE
    marker_name: str | None = None


SECRET_AGAIN = (
    "The server address, port, type or user changed: enter the password (or private key) "
    "again. A stored secret is only ever sent to the server it was entered for."
)


def same_endpoint(
    existing: Destination, host: str, port: int | str | None, protocol: str, username: str
) -> bool:
    """True when (host, port, protocol, user) name the server the stored secret was given
    for. A stored password or key never follows a changed endpoint: otherwise anyone who
    may edit the destination could point it at their own server and collect it."""
    effective = port or DEFAULT_PORTS.get(protocol, 0)
    stored = existing.port or DEFAULT_PORTS.get(str(existing.protocol), 0)
    return (
        host.strip().lower() == existing.host.strip().lower()
        and effective == stored
        and protocol == str(existing.protocol)
        and username == existing.username
    )


def get_destination(destination_id: int | str) -> Destination:
    """The destination with this id; NotFound also for ids no row can have ("abc", 2**40)."""
    ident = parse_id(destination_id)
    destination = db.session.get(Destination, ident) if ident is not None else None
    if destination is None:
        raise NotFound(f"No destination with id {destination_id}.")
    return destination


# A pasted private key is a few kilobytes; 64 KiB leaves room for RSA 16384 with comments.
MAX_PRIVATE_KEY_LENGTH = 64 * 1024
MAX_PASSWORD_LENGTH = 1024


def clean(raw: dict[str, Any], existing: Destination | None = None) -> DestinationInput:
    """Validate every field at once and report all problems together.

    Text goes through the one cleaner (``loyalty.text``): a CR/LF in a directory, user or
    password would end an FTP command early, a NUL cannot be stored on PostgreSQL.
    """
    errors: dict[str, str] = {}

    def text(key: str, label: str, limit: int, *, required: bool = False) -> str:
        try:
            return clean_text(raw.get(key), label, max_length=limit, required=required)
        except ValueError as exc:
            errors[key] = str(exc)
            return ""

    name = text("name", "Sync Target Name", 120, required=True)
    host = text("host", "Server address", 255, required=True)
    if host and "host" not in errors:
        try:
            check_host(host)
        except ValueError as exc:
            errors["host"] = str(exc)
    try:
        protocol = Protocol(str(raw.get("protocol") or "").strip())
    except ValueError:
        errors["protocol"] = "Choose sFTP or SSL FTP (explicit or implicit)."
        protocol = Protocol.SFTP
    directory = text("directory", "Directory", 1024)
    port: int | None = None
    raw_port = str(raw.get("port") or "").strip()
    if raw_port:
        try:
            port = clean_int(raw_port, "Port", minimum=1, maximum=65535)
        except ValueError:
            errors["port"] = (
                "Port must be a number between 1 and 65535 (leave it empty for the default)."
            )
    username = text("username", "Server user", 255, required=True)
    password = _secret(raw.get("password"), "password", "Password", errors)
    confirm = _secret(raw.get("password_confirm"), "password_confirm", "Password", errors)
    private_key: str | None = None
    try:
        private_key = (
            clean_text(
                raw.get("private_key"),
                "Private key",
                max_length=MAX_PRIVATE_KEY_LENGTH,
                multiline=True,
            )
            or None
        )
    except ValueError as exc:
        errors["private_key"] = str(exc)
    if (password or confirm) and password != confirm:
        errors.setdefault("password_confirm", "The passwords do not match.")
    has_stored_credential = existing is not None and (
        existing.password_encrypted or existing.private_key_encrypted
    )
    if not password and not private_key:
        if not has_stored_credential:
            errors.setdefault(
                "password", "Enter the server password (or, for sFTP, a private key)."
            )
        elif existing is not None and not same_endpoint(
            existing, host or "", raw_port and port, str(raw.get("protocol") or ""), username or ""
        ):
            errors.setdefault("password", SECRET_AGAIN)
    if private_key and protocol is not Protocol.SFTP:
        errors["private_key"] = "Private keys are used by sFTP only."
    if private_key and "PRIVATE KEY" not in private_key:
        errors["private_key"] = (
            "Paste the private key in OpenSSH or PEM form (-----BEGIN ... PRIVATE KEY-----)."
        )
    retries = 0
    raw_retries = str(raw.get("retries") if raw.get("retries") is not None else "0").strip() or "0"
    try:
        retries = clean_int(raw_retries, "Retries", minimum=0, maximum=MAX_RETRIES)
    except ValueError:
        errors["retries"] = f"Retries must be a whole number between 0 and {MAX_RETRIES}."
    host_key_fingerprint = _fingerprint(
        raw.get("host_key_fingerprint"), "host_key_fingerprint", normalize_ssh_fingerprint, errors
    )
    tls = _fingerprint(
        raw.get("tls_fingerprint"), "tls_fingerprint", normalize_tls_fingerprint, errors
    )
    host_key_type = text("host_key_type", "Host key type", 40) or None
    if host_key_type and not _KEY_TYPE.fullmatch(host_key_type):
        errors["host_key_type"] = "A host key type looks like ssh-ed25519 or ecdsa-sha2-nistp256."
    marker, marker_name = _marker(raw, errors, existing)
    if errors:
        raise ValidationError(errors)
    return DestinationInput(
        name=name,
        host=host,
        protocol=protocol,
        directory=directory,
        port=port,
        username=username,
        password=password or None,
        private_key=private_key,
        retries=retries,
        host_key_fingerprint=host_key_fingerprint,
        host_key_type=host_key_type,
        tls_fingerprint=tls,
        tls_not_after=_not_after(raw),
        marker=marker,
        marker_name=marker_name,
    )


def _marker(
    raw: dict[str, Any], errors: dict[str, str], existing: Destination | None
) -> tuple[Marker, str | None]:
    """The completion marker's kind and optional name template (delivery.markers).

    A caller that sends neither field (an older CLI or API client) keeps the stored ones.
    """
    from delivery.markers import check_template

    if existing is not None and "marker" not in raw and "marker_name" not in raw:
        return Marker(existing.marker or Marker.NONE), existing.marker_name
    try:
        marker = Marker(str(raw.get("marker") or "none").strip())
    except ValueError:
        errors["marker"] = "Choose no marker, an empty trigger file or a manifest."
        return Marker.NONE, None
    try:
        template = clean_text(raw.get("marker_name"), "Marker name", max_length=255)
    except ValueError as exc:
        errors["marker_name"] = str(exc)
        return marker, None
    if template:
        try:
            check_template(template)
        except ValueError as exc:
            errors["marker_name"] = str(exc)
    return marker, template or None


_KEY_TYPE = re.compile(r"[a-z0-9@._-]{3,40}")


def _secret(value: Any, key: str, label: str, errors: dict[str, str]) -> str:
    """A password as typed (not stripped), without control characters or line breaks."""
    password = value if isinstance(value, str) else ""
    if len(password) > MAX_PASSWORD_LENGTH:
        errors[key] = f"{label} has at most {MAX_PASSWORD_LENGTH} characters."
    elif CONTROL.search(password):
        # Never echo the secret, not even a part of it.
        errors[key] = f"{label} contains control characters or line breaks; remove them."
    return password


def _fingerprint(
    value: Any, key: str, normalize: Callable[[str], str], errors: dict[str, str]
) -> str | None:
    """A pinned fingerprint in its canonical form, or None; anything else is refused."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    if len(text) > 200 or CONTROL.search(text):
        errors[key] = "That is not a fingerprint (SHA256:... for sFTP, 64 hex digits for FTPS)."
        return None
    try:
        return normalize(text)
    except ValueError as exc:
        errors[key] = str(exc)
        return None


def _not_after(raw: dict[str, Any]) -> datetime | None:
    """``<sha256>@<ISO notAfter>`` from the connection test, for the certificate being
    pinned only (a date for another certificate is ignored, a malformed one too)."""
    fingerprint, _, when = str(raw.get("tls_not_after") or "").partition("@")
    pinned = str(raw.get("tls_fingerprint") or "").strip()
    if not pinned or fingerprint != pinned:
        return None
    try:
        value = datetime.fromisoformat(when)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def add_destination(
    sync: Sync, raw: dict[str, Any], *, user: User | None, actor: str | None = None
) -> Destination:
    if user is not None:
        require(user, SYNC_CONFIGURE)
    if len(sync.destinations) >= MAX_DESTINATIONS:
        raise ValidationError(
            f"A sync has at most {MAX_DESTINATIONS} destinations; delete one first."
        )
    data = clean(raw)
    used = {d.position for d in sync.destinations}
    position = min(p for p in range(1, MAX_DESTINATIONS + 1) if p not in used)
    destination = Destination(position=position)
    _apply(destination, data)
    sync.destinations.append(destination)
    db.session.flush()
    audit.record(
        "destination.create", obj=destination, detail=_describe(destination), user=user, actor=actor
    )
    return destination


def update_destination(
    destination: Destination, raw: dict[str, Any], *, user: User | None, actor: str | None = None
) -> dict[str, Any]:
    if user is not None:
        require(user, SYNC_CONFIGURE)
    data = clean(raw, existing=destination)
    moved = not same_endpoint(destination, data.host, data.port, data.protocol.value, data.username)
    before = _describe(destination)
    secret_changed = bool(data.password or data.private_key)
    endpoint_changed = (data.host, data.port, data.protocol) != (
        destination.host,
        destination.port,
        destination.protocol,
    )
    if moved:
        # The secret not entered again belongs to the old server: it is dropped, never
        # sent to the new one (clean() made sure at least one was entered).
        destination.password_encrypted = None
        destination.private_key_encrypted = None
    _apply(destination, data)
    if endpoint_changed or moved or data.directory != before["directory"]:
        # The last test was of other settings.
        destination.last_test_at = None
        destination.last_test_ok = None
    if endpoint_changed and not raw.get("host_key_fingerprint"):
        # A pinned key belongs to the old server; the next test must pin the new one.
        destination.host_key_fingerprint = None
        destination.host_key_type = None
        destination.tls_fingerprint = None
        destination.tls_not_after = None
    after = _describe(destination)
    changed: dict[str, Any] = {
        k: {"from": before[k], "to": after[k]} for k in after if before.get(k) != after[k]
    }
    if secret_changed:
        changed["credentials"] = "changed"
    if changed:
        audit.record("destination.update", obj=destination, detail=changed, user=user, actor=actor)
    return changed


@dataclass(frozen=True)
class DestinationDeletionImpact:
    """What deleting a destination changes: its settings and pin go; transfer history
    stays (it keeps the destination's name); unfinished transfers to it will not deliver."""

    transfers: int
    unfinished: int
    pinned: str | None


def deletion_impact(destination: Destination) -> DestinationDeletionImpact:
    from sqlalchemy import func, select

    from webapp.models.runs import Transfer, TransferStatus

    total = db.session.scalar(
        select(func.count()).select_from(Transfer).where(Transfer.destination_id == destination.id)
    )
    unfinished = db.session.scalar(
        select(func.count())
        .select_from(Transfer)
        .where(
            Transfer.destination_id == destination.id,
            Transfer.status.in_(
                [TransferStatus.PENDING, TransferStatus.TRANSFERRING, TransferStatus.RETRYING]
            ),
        )
    )
    return DestinationDeletionImpact(
        transfers=total or 0,
        unfinished=unfinished or 0,
        pinned=destination.host_key_fingerprint or destination.tls_fingerprint,
    )


def delete_destination(
    destination: Destination, *, user: User | None, actor: str | None = None
) -> None:
    if user is not None:
        require(user, SYNC_CONFIGURE)
    audit.record(
        "destination.delete", obj=destination, detail=_describe(destination), user=user, actor=actor
    )
    db.session.delete(destination)


def renew_pin(
    destination: Destination,
    fingerprint: str,
    *,
    key_type: str | None = None,
    not_after: datetime | None = None,
    user: User | None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Pin the key or certificate the server now shows, after a deliberate change (the
    caller has checked that a test just saw exactly this one). Audited with both pins; the
    destination counts as untested until the next test logs in with the new pin."""
    if user is not None:
        require(user, SYNC_CONFIGURE)
    errors: dict[str, str] = {}
    sftp = Protocol(destination.protocol) is Protocol.SFTP
    normalize = normalize_ssh_fingerprint if sftp else normalize_tls_fingerprint
    new = _fingerprint(fingerprint, "fingerprint", normalize, errors)
    if new is None and not errors:
        errors["fingerprint"] = "Tick the key or certificate the server showed to pin it."
    if errors:
        raise ValidationError(errors)
    old = destination.pinned
    if new == old:
        raise ValidationError({"fingerprint": "That key or certificate is already pinned."})
    if sftp:
        destination.host_key_fingerprint = new
        if key_type and _KEY_TYPE.fullmatch(key_type):
            destination.host_key_type = key_type
    else:
        destination.tls_fingerprint = new
        destination.tls_not_after = not_after
    destination.last_test_at = None
    destination.last_test_ok = None
    detail = {"from": old, "to": new, "kind": "host key" if sftp else "certificate"}
    audit.record("destination.pin_renew", obj=destination, detail=detail, user=user, actor=actor)
    return detail


def trust_problem(destination: Destination) -> str | None:
    """Why the first transfer to this destination may fail, in words, or None."""
    if destination.trust == "untested":
        problem = "it was never tested with these settings."
    elif destination.trust == "failed":
        problem = "its last connection test failed."
    else:
        problem = None
    if Protocol(destination.protocol) is Protocol.SFTP and not destination.host_key_fingerprint:
        unpinned = "no host key is pinned (transfers refuse an unknown host key)."
        problem = unpinned if problem is None else problem[:-1] + "; " + unpinned
    return problem


def password_of(destination: Destination) -> str | None:
    return (
        secrets.decrypt(destination.password_encrypted) if destination.password_encrypted else None
    )


def private_key_of(destination: Destination) -> str | None:
    if not destination.private_key_encrypted:
        return None
    return secrets.decrypt(destination.private_key_encrypted)


def _apply(destination: Destination, data: DestinationInput) -> None:
    destination.name = data.name
    destination.host = data.host
    destination.protocol = data.protocol
    destination.directory = data.directory
    destination.port = data.port
    destination.username = data.username
    destination.retries = data.retries
    destination.marker = data.marker
    destination.marker_name = data.marker_name
    if data.password:
        destination.password_encrypted = secrets.encrypt(data.password)
    if data.private_key:
        destination.private_key_encrypted = secrets.encrypt(data.private_key)
    if data.host_key_fingerprint:
        if data.host_key_fingerprint != destination.host_key_fingerprint:
            destination.host_key_type = data.host_key_type
        destination.host_key_fingerprint = data.host_key_fingerprint
    if data.tls_fingerprint:
        if data.tls_fingerprint != destination.tls_fingerprint or data.tls_not_after:
            destination.tls_not_after = data.tls_not_after
        destination.tls_fingerprint = data.tls_fingerprint


def _describe(destination: Destination) -> dict[str, Any]:
    """What the audit log may say about a destination: everything but its secrets."""
    return {
        "name": destination.name,
        "protocol": str(destination.protocol),
        "host": destination.host,
        "port": destination.port,
        "directory": destination.directory,
        "username": destination.username,
        "retries": destination.retries,
        "host_key_fingerprint": destination.host_key_fingerprint,
        "host_key_type": destination.host_key_type,
        "tls_fingerprint": destination.tls_fingerprint,
        "tls_not_after": _iso(destination.tls_not_after),
        "marker": str(destination.marker or Marker.NONE),
        "marker_name": destination.marker_name,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
