"""Secrets at rest: destination passwords and private keys, encrypted with Fernet.

The key never lives in the database: it comes from ``LOYALTY_SYNC_SECRETS_KEYS`` (a
comma-separated list, newest first) or from ``<instance>/secrets.key``, created with
mode 0600 on first start. MultiFernet decrypts with any listed key and encrypts with
the first, so a key is rotated by putting a new one in front and running
``flask secrets rotate``, which re-encrypts every stored secret with it.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from webapp.config import read_or_create_secret


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured keys."""


def _cipher() -> MultiFernet:
    keys: list[str] = list(current_app.config.get("SECRETS_KEYS") or [])
    if not keys:
        path = Path(current_app.instance_path) / "secrets.key"
        keys = [read_or_create_secret(path, make=lambda: Fernet.generate_key().decode())]
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the newest key; returns a Fernet token (text)."""
    return _cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a token written by ``encrypt`` with any configured key."""
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted: the secrets key was changed or lost. "
            "Restore the old key (listed after the new one) or enter the password again."
        ) from None


def open_sealed(token: str, max_age_seconds: int) -> str:
    """Decrypt a short-lived token (a secret handed to a job): refused once older than
    ``max_age_seconds`` (Fernet tokens carry their creation time)."""
    try:
        return _cipher().decrypt(token.encode("ascii"), ttl=max_age_seconds).decode("utf-8")
    except InvalidToken:
        raise SecretUnreadable("The sealed value expired or cannot be read.") from None


def rotate(token: str) -> str:
    """Re-encrypt a token with the newest key (MultiFernet.rotate)."""
    return _cipher().rotate(token.encode("ascii")).decode("ascii")


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
