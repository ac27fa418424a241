"""FTP destinations of a sync: add, edit, delete, pin host keys.

Passwords and private keys are encrypted before they reach the model and are never
returned; an edit that leaves the password empty keeps the stored one. The model and
the database refuse a 7th destination and retries outside 0-5; this service says so
in words before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.errors import NotFound, ValidationError
from webapp.extensions import db
from webapp.models.syncs import MAX_DESTINATIONS, MAX_RETRIES, Destination, Protocol, Sync
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


def get_destination(destination_id: int) -> Destination:
    destination = db.session.get(Destination, destination_id)
    if destination is None:
        raise NotFound(f"No destination with id {destination_id}.")
    return destination


def clean(raw: dict[str, Any], existing: Destination | None = None) -> DestinationInput:
    """Validate every field at once and report all problems together."""
    errors: dict[str, str] = {}

    def text(key: str, limit: int) -> str:
        value = str(raw.get(key) or "").strip()
        if len(value) > limit:
            errors[key] = f"At most {limit} characters."
        return value

    name = text("name", 120)
    if not name:
        errors["name"] = "Sync Target Name is required."
    host = text("host", 255)
    if not host:
        errors["host"] = "Server address is required."
    elif any(c.isspace() for c in host) or "/" in host:
        errors["host"] = "Enter a host name or IP address, without spaces, slashes or a URL scheme."
    try:
        protocol = Protocol(str(raw.get("protocol") or "").strip())
    except ValueError:
        errors["protocol"] = "Choose sFTP or SSL FTP (explicit or implicit)."
        protocol = Protocol.SFTP
    directory = text("directory", 1024)
    if "\x00" in directory or "\n" in directory:
        errors["directory"] = "The directory contains characters a server cannot accept."
    port: int | None = None
    raw_port = str(raw.get("port") or "").strip()
    if raw_port:
        try:
            port = int(raw_port)
        except ValueError:
            errors["port"] = "Port must be a number between 1 and 65535."
        else:
            if not 1 <= port <= 65535:
                errors["port"] = (
                    "Port must be between 1 and 65535 (leave it empty for the default)."
                )
    username = text("username", 255)
    if not username:
        errors["username"] = "Server user is required."
    password = str(raw.get("password") or "")
    confirm = str(raw.get("password_confirm") or "")
    private_key = str(raw.get("private_key") or "").strip() or None
    if (password or confirm) and password != confirm:
        errors["password_confirm"] = "The passwords do not match."
    has_stored_credential = existing is not None and (
        existing.password_encrypted or existing.private_key_encrypted
    )
    if not password and not private_key and not has_stored_credential:
        errors["password"] = "Enter the server password (or, for sFTP, a private key)."
    if private_key and protocol is not Protocol.SFTP:
        errors["private_key"] = "Private keys are used by sFTP only."
    if private_key and "PRIVATE KEY" not in private_key:
        errors["private_key"] = (
            "Paste the private key in OpenSSH or PEM form (-----BEGIN ... PRIVATE KEY-----)."
        )
    retries = 0
    raw_retries = str(raw.get("retries") if raw.get("retries") is not None else "0").strip() or "0"
    try:
        retries = int(raw_retries)
    except ValueError:
        errors["retries"] = f"Retries must be a number from 0 to {MAX_RETRIES}."
    else:
        if not 0 <= retries <= MAX_RETRIES:
            errors["retries"] = f"Retries must be between 0 and {MAX_RETRIES}."
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
        host_key_fingerprint=(str(raw.get("host_key_fingerprint") or "").strip() or None),
        host_key_type=(str(raw.get("host_key_type") or "").strip()[:40] or None),
        tls_fingerprint=(str(raw.get("tls_fingerprint") or "").strip() or None),
        tls_not_after=_not_after(raw),
    )


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
    before = _describe(destination)
    secret_changed = bool(data.password or data.private_key)
    endpoint_changed = (data.host, data.port, data.protocol) != (
        destination.host,
        destination.port,
        destination.protocol,
    )
    _apply(destination, data)
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


def delete_destination(
    destination: Destination, *, user: User | None, actor: str | None = None
) -> None:
    if user is not None:
        require(user, SYNC_CONFIGURE)
    audit.record(
        "destination.delete", obj=destination, detail=_describe(destination), user=user, actor=actor
    )
    db.session.delete(destination)


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
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
