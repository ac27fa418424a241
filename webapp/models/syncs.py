"""Sync configuration: a sync, its destinations and its PGP recipients.

Limits that protect receivers (at most 6 destinations, 0-5 retries, valid ports) are
enforced here and by database constraints, so no code path (form, CLI, job, shell)
can store a configuration the product does not allow.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.text import CONTROL, clean_text

if TYPE_CHECKING:
    from webapp.models.runs import SyncInstance

MAX_DESTINATIONS = 6
MAX_RETRIES = 5
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 36_600
MAX_RETENTION_RUNS = 100_000


class Compression(enum.StrEnum):
    NONE = "none"
    GZIP = "gzip"
    ZIP = "zip"


class Encryption(enum.StrEnum):
    NONE = "none"
    PGP = "pgp"


class Marker(enum.StrEnum):
    """What a destination receives last, once every file of the run is in place."""

    NONE = "none"
    TRIGGER = "trigger"  # an empty file: <first file name>.done, or a name template
    MANIFEST_JSON = "manifest_json"  # name, size, sha256 and rows of each file, as JSON
    MANIFEST_PIPE = "manifest_pipe"  # the same, pipe-delimited like the layouts

    @property
    def label(self) -> str:
        return {
            "none": "None",
            "trigger": "Empty trigger file",
            "manifest_json": "Manifest (JSON)",
            "manifest_pipe": "Manifest (pipe-delimited)",
        }[self.value]


class Protocol(enum.StrEnum):
    SFTP = "sftp"
    FTPS_EXPLICIT = "ftps_explicit"
    FTPS_IMPLICIT = "ftps_implicit"

    @property
    def default_port(self) -> int:
        return {"sftp": 22, "ftps_explicit": 21, "ftps_implicit": 990}[self.value]

    @property
    def label(self) -> str:
        return {
            "sftp": "sFTP (SSH)",
            "ftps_explicit": "SSL FTP (explicit, AUTH TLS)",
            "ftps_implicit": "SSL FTP (implicit TLS)",
        }[self.value]


_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# IANA names are short ("America/Argentina/ComodRivadavia" is among the longest); the
# column holds 64.
MAX_TIMEZONE_LENGTH = 64
# A DNS label has at most 63 octets, a name at most 253 (RFC 1035); underscores are
# tolerated because internal hosts use them.
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def check_execution_time(value: str) -> str:
    """``HH:MM`` on a 24-hour clock in ASCII digits, or ValueError with the message a user sees.

    ``str.isdigit`` would take full-width and other Unicode digits (U+FF10-U+FF19).
    """
    if not isinstance(value, str) or not _HHMM.fullmatch(value):
        raise ValueError("Execution time must be HH:MM on a 24-hour clock, e.g. 03:30.")
    return value


def check_timezone(value: str) -> str:
    """An IANA zone name, or ValueError with the message a user sees.

    A long name makes ``ZoneInfo`` raise OSError (file name too long), a NUL ValueError:
    both are an unknown zone to the person who typed it.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not value or len(value) > MAX_TIMEZONE_LENGTH:
        shown = value[:40] + "..." if isinstance(value, str) and len(value) > 40 else value
        raise ValueError(f"Unknown timezone {shown!r}; use an IANA name such as Europe/London.")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValueError(
            f"Unknown timezone {value!r}; use an IANA name such as Europe/London."
        ) from None
    return value


def check_host(value: str) -> str:
    """A host name (labels of 1-63 characters, 253 in all) or an IP address.

    Anything else fails later, inside the socket library, with an error no user can read
    (a label over 63 characters makes the IDNA codec raise UnicodeError).
    """
    import ipaddress

    host = (value or "").strip()
    if not host:
        raise ValueError("Server address is required.")
    message = (
        "Enter a host name or IP address, without spaces, slashes or a URL scheme "
        "(each part between dots at most 63 characters)."
    )
    if CONTROL.search(host) or any(c.isspace() for c in host) or "/" in host:
        raise ValueError(message)
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_name = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(message) from None
    labels = ascii_name.rstrip(".").split(".")
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(message)
    return host


class Sync(Base):
    """One configured sync: a type, its scope, its schedule and its packaging."""

    __tablename__ = "syncs"
    __table_args__ = (CheckConstraint("length(execution_time) = 5", name="execution_time_hhmm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_key: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Scope parameters chosen by support at creation, e.g. {"descriptor_id": 7}.
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    execution_time: Mapped[str] = mapped_column(String(5), default="03:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    compression: Mapped[Compression] = mapped_column(
        str_enum(Compression, "compression"), default=Compression.NONE
    )
    encryption: Mapped[Encryption] = mapped_column(
        str_enum(Encryption, "encryption"), default=Encryption.NONE
    )
    pgp_armor: Mapped[bool] = mapped_column(Boolean, default=False)
    # The sync type's own options (Points Setting, file kinds, max records per file, ...).
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notify_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "Delivered to every destination by HH:MM" in the sync's zone; None = no deadline.
    delivery_deadline: Mapped[str | None] = mapped_column(String(5))
    # Optional PGP signing key (services.signing): the private key and its passphrase as
    # Fernet tokens, never rendered, never logged; the fingerprint and expiry for display.
    signing_key_encrypted: Mapped[str | None] = mapped_column(Text)
    signing_passphrase_encrypted: Mapped[str | None] = mapped_column(Text)
    signing_fingerprint: Mapped[str | None] = mapped_column(String(64))
    signing_user_ids: Mapped[str | None] = mapped_column(String(512))
    signing_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Incremental position reached by the last created file; moved only with a created file.
    watermark: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Last scheduled slot (UTC) the scheduler has dealt with; see jobs.schedule.
    last_scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Retention of stored files (jobs.retention): a run's files are removed when it is
    # older than retention_days, unless it is among the last retention_runs runs with
    # files. Both None: kept forever. Run rows, hashes and audit always stay.
    retention_days: Mapped[int | None] = mapped_column(default=DEFAULT_RETENTION_DAYS)
    retention_runs: Mapped[int | None]
    # The change-log position when the sync was created: the log below it is never
    # needed by this sync, so pruning (jobs.retention) may go up to it while the sync
    # has not run yet. None on syncs created before it was recorded (nothing is pruned
    # below a sync that has neither this nor a watermark).
    log_start: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Build lease (jobs.lease): which run holds the right to build, and its last heartbeat.
    build_lease_instance_id: Mapped[int | None]
    build_lease_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Runs ever created: the next run is "Run <runs_created + 1>" of this sync
    # (webapp.services.run_status numbers it with one conditional UPDATE).
    runs_created: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    enabled_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled_changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    destinations: Mapped[list[Destination]] = relationship(
        back_populates="sync",
        cascade="all, delete-orphan",
        order_by="Destination.position",
    )
    recipient_keys: Mapped[list[RecipientKey]] = relationship(
        back_populates="sync", cascade="all, delete-orphan", order_by="RecipientKey.id"
    )
    instances: Mapped[list[SyncInstance]] = relationship(
        back_populates="sync", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("name")
    def _check_name(self, _key: str, value: str) -> str:
        # A CR/LF here would reach the Subject of a failure notice (issue 17, item 11).
        value = clean_text(value, "A sync name", max_length=120)
        if not value:
            raise ValueError("A sync needs a name.")
        return value

    @validates("execution_time")
    def _check_time(self, _key: str, value: str) -> str:
        return check_execution_time(value)

    @validates("timezone")
    def _check_zone(self, _key: str, value: str) -> str:
        return check_timezone(value)

    @validates("destinations")
    def _check_destination_count(self, _key: str, destination: Destination) -> Destination:
        if len(self.destinations) >= MAX_DESTINATIONS:
            raise ValueError(f"A sync has at most {MAX_DESTINATIONS} destinations.")
        return destination

    def __repr__(self) -> str:
        return f"<Sync {self.id} {self.type_key} {self.name!r}>"


class Destination(Base):
    """Where a sync's files go. ``position`` (1-6, unique per sync) caps the count in the database."""

    __tablename__ = "destinations"
    __table_args__ = (
        UniqueConstraint("sync_id", "position"),
        CheckConstraint(f"position BETWEEN 1 AND {MAX_DESTINATIONS}", name="position_range"),
        CheckConstraint(f"retries BETWEEN 0 AND {MAX_RETRIES}", name="retries_range"),
        CheckConstraint("port IS NULL OR port BETWEEN 1 AND 65535", name="port_range"),
        CheckConstraint("length(host) > 0", name="host_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("syncs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    protocol: Mapped[Protocol] = mapped_column(str_enum(Protocol, "protocol"))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int | None]
    directory: Mapped[str] = mapped_column(String(1024), default="")
    username: Mapped[str] = mapped_column(String(255))
    # Fernet tokens (services.secrets); never rendered, never logged.
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    private_key_encrypted: Mapped[str | None] = mapped_column(Text)
    # SFTP: pinned "SHA256:..." host key fingerprint. FTPS: pinned certificate sha256 (hex).
    host_key_fingerprint: Mapped[str | None] = mapped_column(String(128))
    # The pinned key's algorithm (e.g. "ssh-ed25519"): a server with several host keys is
    # asked for this one, so it keeps showing the key that was pinned.
    host_key_type: Mapped[str | None] = mapped_column(String(40))
    tls_fingerprint: Mapped[str | None] = mapped_column(String(128))
    # The pinned FTPS certificate's notAfter, recorded with the pin (expiry warnings).
    tls_not_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retries: Mapped[int] = mapped_column(default=0)
    # The last Test connection of exactly these settings (None: never tested, or the
    # server, user or directory changed since): what the list shows as trust.
    last_test_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean)
    # Completion marker, uploaded last (delivery.markers); off by default.
    marker: Mapped[Marker] = mapped_column(
        str_enum(Marker, "marker"), default=Marker.NONE, server_default="none"
    )
    # A name template for the marker ({first}, {run}, {date}); empty = the default name.
    marker_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sync: Mapped[Sync] = relationship(back_populates="destinations")

    @property
    def pinned(self) -> str | None:
        """The pinned host key (sFTP) or certificate (FTPS) fingerprint, if any."""
        if Protocol(self.protocol) is Protocol.SFTP:
            return self.host_key_fingerprint
        return self.tls_fingerprint

    @property
    def trust(self) -> str:
        """ "verified", "failed" or "untested": the last test of the current settings."""
        if self.last_test_at is None or self.last_test_ok is None:
            return "untested"
        return "verified" if self.last_test_ok else "failed"

    @property
    def effective_port(self) -> int:
        return self.port or Protocol(self.protocol).default_port

    @validates("retries")
    def _check_retries(self, _key: str, value: int) -> int:
        if value is None or not 0 <= int(value) <= MAX_RETRIES:
            raise ValueError(f"Retries must be between 0 and {MAX_RETRIES}.")
        return int(value)

    @validates("port")
    def _check_port(self, _key: str, value: int | None) -> int | None:
        if value is not None and not 1 <= int(value) <= 65535:
            raise ValueError("Port must be between 1 and 65535 (leave it empty for the default).")
        return value

    @validates("host")
    def _check_host(self, _key: str, value: str) -> str:
        return check_host(value)

    @validates("name")
    def _check_name(self, _key: str, value: str) -> str:
        return clean_text(value, "Sync Target Name", max_length=120, required=True)

    @validates("username")
    def _check_username(self, _key: str, value: str) -> str:
        return clean_text(value, "Server user", max_length=255, required=True)

    @validates("directory")
    def _check_directory(self, _key: str, value: str) -> str:
        # A CR/LF would end the FTP command early and break every transfer of the sync.
        return clean_text(value, "Directory", max_length=1024)

    @validates("position")
    def _check_position(self, _key: str, value: int) -> int:
        if not 1 <= value <= MAX_DESTINATIONS:
            raise ValueError(f"A sync has at most {MAX_DESTINATIONS} destinations.")
        return value

    def __repr__(self) -> str:  # no secrets here, ever
        return f"<Destination {self.id} {self.protocol} {self.host}>"


class RecipientKey(Base):
    """A PGP public key the sync's files are encrypted to. Public keys are not secrets."""

    __tablename__ = "recipient_keys"
    __table_args__ = (UniqueConstraint("sync_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("syncs.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    user_ids: Mapped[str] = mapped_column(String(512), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    armored: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sync: Mapped[Sync] = relationship(back_populates="recipient_keys")
