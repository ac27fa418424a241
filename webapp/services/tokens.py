"""API tokens: creation (shown once), listing, revocation, and checking a presented one.

A token is ``lsync_`` + 40 random base62 characters + a 6-character checksum, like
GitHub's: the prefix makes a leaked token recognisable to secret scanners, the checksum
lets a typo or a truncated paste be refused without a database lookup. Only the sha256
of the whole text is stored.

A token's effective permission is its scope AND its owner's current role, evaluated on
every request (:func:`allows`): a demoted or disabled owner loses the token's powers at
once, and a token can never be created with a scope its owner lacks.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from loyalty.db import utcnow
from loyalty.errors import NotFound, ValidationError
from loyalty.text import clean_int, clean_text, parse_id
from webapp.extensions import db
from webapp.models.tokens import ApiToken
from webapp.models.users import Role, User
from webapp.services import audit
from webapp.services.permissions import (
    ALL_PERMISSIONS,
    ROLE_PERMISSIONS,
    SYNC_VIEW,
    has_permission,
)

PREFIX = "lsync_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_LENGTH = 40  # 40 * log2(62) = 238 bits
_CHECK_LENGTH = 6
TOKEN_PATTERN = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{_SECRET_LENGTH + _CHECK_LENGTH}}}")
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 366
MAX_NAME_LENGTH = 80
# Last-used time and address are written at most this often per token (not one UPDATE
# per request), unless the address changes.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


def _checksum(secret: str) -> str:
    return _base62(zlib.crc32(secret.encode("ascii")), _CHECK_LENGTH)


def generate() -> str:
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))
    return f"{PREFIX}{secret}{_checksum(secret)}"


def well_formed(text: str) -> bool:
    """The shape and checksum are right (says nothing about whether the token exists)."""
    if not TOKEN_PATTERN.fullmatch(text):
        return False
    body = text[len(PREFIX) :]
    return _checksum(body[:_SECRET_LENGTH]) == body[_SECRET_LENGTH:]


def hash_token(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# My account (one's own password) is for the person, never for a token.
NOT_FOR_TOKENS = frozenset({"account.self"})


def role_scopes(user: User) -> frozenset[str]:
    """What a token of ``user`` may be given: the role's permissions, less My account."""
    return ROLE_PERMISSIONS.get(Role(user.role), frozenset()) - NOT_FOR_TOKENS


def create_token(
    owner: User,
    name: str,
    scopes: list[str] | tuple[str, ...] | None,
    expires_in_days: int | str | None = None,
    *,
    user: User | None,
    actor: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``owner``; returns it and its text, which is never available again.

    ``scopes`` default to every permission the owner has now. ``user`` is who acts (the
    owner on the web page; None for the command line, signed by ``actor``).
    """
    errors: dict[str, str] = {}
    try:
        name = clean_text(name, "Token name", max_length=MAX_NAME_LENGTH, required=True)
    except ValueError as exc:
        errors["name"] = str(exc)
    else:
        taken = db.session.scalar(
            select(ApiToken.id).where(ApiToken.user_id == owner.id, ApiToken.name == name)
        )
        if taken is not None:
            errors["name"] = f"You already have a token named “{name}”; choose another name."
    allowed = role_scopes(owner)
    wanted = sorted(set(scopes)) if scopes else sorted(allowed)
    if any(s.startswith("sync.") for s in wanted) and SYNC_VIEW not in wanted:
        # Every sync action shows the sync (the API asks for both on those routes).
        wanted = sorted({*wanted, SYNC_VIEW})
    unknown = [s for s in wanted if s not in ALL_PERMISSIONS]
    if unknown:
        errors["scopes"] = f"Unknown permission {', '.join(unknown)}."
    elif not wanted:
        errors["scopes"] = "Choose at least one permission."
    else:
        beyond = [s for s in wanted if s not in allowed]
        if beyond:
            errors["scopes"] = (
                f"A token cannot have permissions its owner lacks: {', '.join(beyond)} "
                f"(the role {Role(owner.role).label} does not grant them)."
            )
    days = DEFAULT_EXPIRY_DAYS
    if expires_in_days not in (None, ""):
        try:
            days = clean_int(expires_in_days, "Expiry", minimum=1, maximum=MAX_EXPIRY_DAYS)
        except ValueError:
            errors["expires_in_days"] = (
                f"Expiry is a whole number of days between 1 and {MAX_EXPIRY_DAYS}."
            )
    if not owner.is_active:
        errors["user"] = f"{owner.email} is disabled; a disabled user cannot get a token."
    if errors:
        raise ValidationError(errors)
    text = generate()
    token = ApiToken(
        user_id=owner.id,
        name=name,
        display_prefix=text[: len(PREFIX) + 6],
        secret_hash=hash_token(text),
        scopes=wanted,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.create",
        obj=token,
        detail={
            "name": name,
            "owner": owner.email,
            "scopes": wanted,
            "expires_at": token.expires_at.isoformat(),
        },
        user=user,
        actor=actor,
    )
    return token, text


def list_tokens(owner: User) -> list[ApiToken]:
    """The owner's tokens, newest first (revoked and expired ones included, marked)."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == owner.id).order_by(ApiToken.id.desc())
        )
    )


def all_tokens() -> list[ApiToken]:
    """Every user's tokens (the command line, which runs as the server's operator)."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def get_token(token_id: int | str, owner: User | None) -> ApiToken:
    """A token by id; with ``owner``, only one of theirs (another's is NotFound, never 403)."""
    ident = parse_id(token_id)
    token = db.session.get(ApiToken, ident) if ident is not None else None
    if token is None or (owner is not None and token.user_id != owner.id):
        raise NotFound(f"No token with id {token_id}.")
    return token


def revoke_token(token: ApiToken, *, user: User | None, actor: str | None = None) -> bool:
    """Revoke now; False (and nothing written) when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record(
        "token.revoke",
        obj=token,
        detail={"name": token.name, "owner": token.user.email},
        user=user,
        actor=actor,
    )
    return True


def state(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked`` (what lists show)."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


@dataclass(frozen=True)
class Refusal:
    """Why a presented token does not authenticate (the API answers 401 with it)."""

    reason: str  # missing | malformed | unknown | expired | revoked | disabled
    message: str


def authenticate(text: str | None, remote_addr: str | None) -> ApiToken | Refusal:
    """The token named by ``text``, checked (exists, not revoked or expired, owner
    active), with its last use recorded; or why not. The caller commits."""
    if not text:
        return Refusal("missing", "Send an API token: Authorization: Bearer lsync_….")
    if not well_formed(text):
        return Refusal("malformed", "That is not an API token (they look like lsync_…).")
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))  # one query for the token and its owner
        .where(ApiToken.secret_hash == hash_token(text))
    )
    if token is None:
        return Refusal("unknown", "This API token is not known; it may have been deleted.")
    now = utcnow()
    current = state(token, now)
    if current == "revoked":
        return Refusal("revoked", "This API token was revoked.")
    if current == "expired":
        return Refusal("expired", "This API token has expired; create a new one.")
    if not token.user.is_active:
        return Refusal("disabled", "The owner of this API token is disabled.")
    addr = (remote_addr or "")[:64] or None
    if (
        token.last_used_at is None
        or now - token.last_used_at >= LAST_USED_RESOLUTION
        or token.last_used_addr != addr
    ):
        token.last_used_at = now
        token.last_used_addr = addr
    return token


def allows(token: ApiToken, permission: str) -> bool:
    """The token's scope AND its owner's current role grant ``permission``."""
    return permission in (token.scopes or []) and has_permission(token.user, permission)


def effective_scopes(token: ApiToken) -> list[str]:
    return [p for p in ALL_PERMISSIONS if allows(token, p)]
