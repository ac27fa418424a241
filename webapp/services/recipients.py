"""PGP recipients of a sync: the public keys its files are encrypted to.

A key is inspected before it is stored: garbage, private keys, expired keys and keys
without an encryption-capable (sub)key are refused with a message, so that a sync can
never fail at 3 a.m. because of a key pasted in the afternoon.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.models.syncs import Encryption, RecipientKey, Sync
from webapp.models.users import User
from webapp.services import audit
from webapp.services.permissions import SYNC_CONFIGURE, require


def add_recipient_key(
    sync: Sync, armored: str, *, user: User | None, actor: str | None = None
) -> list[RecipientKey]:
    """Store every public key in ``armored`` (one paste may hold several), each on its own.

    Each row keeps its key's own export, never the whole paste: removing a row then
    removes that key, and encryption names the rows' fingerprints only.
    """
    from delivery.pgp import inspect_public_key, split_public_keys

    if user is not None:
        require(user, SYNC_CONFIGURE)
    text = (armored or "").strip()
    if not text:
        raise ValidationError({"public_key": "Paste or upload an ASCII-armored PGP public key."})
    try:
        keys = inspect_public_key(text, Path(current_app.config["GNUPG_HOME"]))
    except ValueError as exc:
        raise ValidationError({"public_key": str(exc)}) from None
    now = datetime.now(UTC)
    added = []
    known = {k.fingerprint for k in sync.recipient_keys}
    try:
        own = split_public_keys(text, [info.fingerprint for info in keys])
    except ValueError as exc:
        raise ValidationError({"public_key": str(exc)}) from None
    for info in keys:
        if not info.can_encrypt:
            raise ValidationError(
                {"public_key": f"Key {info.fingerprint} cannot encrypt (no encryption subkey)."}
            )
        if info.expires_at is not None and info.expires_at <= now:
            raise ValidationError(
                {"public_key": f"Key {info.fingerprint} expired on {info.expires_at:%Y-%m-%d}."}
            )
        if info.fingerprint in known:
            continue
        key = RecipientKey(
            fingerprint=info.fingerprint,
            user_ids="; ".join(info.user_ids)[:512],
            expires_at=info.expires_at,
            armored=own[info.fingerprint],
        )
        sync.recipient_keys.append(key)
        added.append(key)
        audit.record(
            "sync.pgp_key_add",
            obj=sync,
            detail={"fingerprint": info.fingerprint, "user_ids": info.user_ids},
            user=user,
            actor=actor,
        )
    db.session.flush()
    return added


def remove_recipient_key(
    sync: Sync, key_id: int, *, user: User | None, actor: str | None = None
) -> None:
    if user is not None:
        require(user, SYNC_CONFIGURE)
    key = next((k for k in sync.recipient_keys if k.id == key_id), None)
    if key is None:
        raise ValidationError(f"Key {key_id} is not a recipient of this sync.")
    if sync.encryption == Encryption.PGP and len(sync.recipient_keys) == 1:
        raise ValidationError("PGP encryption needs at least one key; switch encryption off first.")
    sync.recipient_keys.remove(key)
    audit.record(
        "sync.pgp_key_remove",
        obj=sync,
        detail={"fingerprint": key.fingerprint},
        user=user,
        actor=actor,
    )
