"""The PGP signing key of a sync: files are signed as well as encrypted to the recipients.

A key is checked before it is stored (``delivery.pgp_signing.inspect_secret_key``): a
public key, garbage, several keys, a revoked or expired key, one that cannot sign, or a
passphrase that does not unlock it is refused with a message and nothing is stored. The
private key and its passphrase are stored as Fernet tokens (``services.secrets``), never
rendered, returned or logged; the audit log records the fingerprint only. The settings
page shows the fingerprint, the user ids and the expiry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.errors import ValidationError
from loyalty.text import CONTROL
from webapp.models.syncs import Sync
from webapp.models.users import User
from webapp.services import audit, secrets
from webapp.services.permissions import SYNC_CONFIGURE, require

if TYPE_CHECKING:
    from delivery.pgp_signing import Signer

MAX_KEY_LENGTH = 64 * 1024
MAX_PASSPHRASE_LENGTH = 1024


def set_signing_key(
    sync: Sync, armored: str, passphrase: str, *, user: User | None, actor: str | None = None
) -> str:
    """Check and store ``armored`` (one private key) as the sync's signing key; returns its
    fingerprint. Replaces an earlier signing key."""
    from delivery.pgp_signing import check_signing_key

    if user is not None:
        require(user, SYNC_CONFIGURE)
    text = (armored or "").strip()
    passphrase = passphrase if isinstance(passphrase, str) else ""
    if not text:
        raise ValidationError(
            {"private_key": "Paste the signing key (an ASCII-armored private key)."}
        )
    if len(text) > MAX_KEY_LENGTH:
        raise ValidationError({"private_key": "A signing key has at most 64 KiB of text."})
    if len(passphrase) > MAX_PASSPHRASE_LENGTH or CONTROL.search(passphrase):
        # Never echo the passphrase, not even a part of it.
        raise ValidationError(
            {"passphrase": "The passphrase is too long or contains control characters."}
        )
    try:
        info, export = check_signing_key(text, passphrase)
    except ValueError as exc:
        raise ValidationError({"private_key": str(exc)}) from None
    replaced = sync.signing_fingerprint
    sync.signing_key_encrypted = secrets.encrypt(export)
    sync.signing_passphrase_encrypted = secrets.encrypt(passphrase)
    sync.signing_fingerprint = info.fingerprint
    sync.signing_user_ids = "; ".join(info.user_ids)[:512]
    sync.signing_expires_at = info.expires_at
    audit.record(
        "sync.signing_key_set",
        obj=sync,
        detail={
            "fingerprint": info.fingerprint,
            "user_ids": list(info.user_ids),
            "expires_at": info.expires_at.isoformat() if info.expires_at else None,
            "replaced": replaced,
        },
        user=user,
        actor=actor,
    )
    return info.fingerprint


def remove_signing_key(sync: Sync, *, user: User | None, actor: str | None = None) -> None:
    if user is not None:
        require(user, SYNC_CONFIGURE)
    if not sync.signing_fingerprint:
        raise ValidationError("This sync has no signing key.")
    audit.record(
        "sync.signing_key_remove",
        obj=sync,
        detail={"fingerprint": sync.signing_fingerprint},
        user=user,
        actor=actor,
    )
    sync.signing_key_encrypted = None
    sync.signing_passphrase_encrypted = None
    sync.signing_fingerprint = None
    sync.signing_user_ids = None
    sync.signing_expires_at = None


def signer_of(sync: Sync) -> Signer | None:
    """The key packaging signs with, decrypted for the build job only; None without one."""
    from delivery.pgp_signing import Signer

    if not (sync.signing_key_encrypted and sync.signing_fingerprint):
        return None
    return Signer(
        fingerprint=sync.signing_fingerprint,
        armored_private=secrets.decrypt(sync.signing_key_encrypted),
        passphrase=secrets.decrypt(sync.signing_passphrase_encrypted or "")
        if sync.signing_passphrase_encrypted
        else "",
        expires_at=sync.signing_expires_at,
    )
