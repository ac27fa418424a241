"""PGP signing keys: check the private key a user pastes, and hold it while files are signed.

Healthcare and finance partners require files signed by the sender as well as encrypted
to them. The private key never lives in the app's GNUPGHOME: :func:`signing_home` imports
it into a throw-away home (0700, under the system temp folder, whose gpg-agent is
stopped and whose files are removed when the block ends), together with the recipients'
public keys, and :func:`delivery.pgp.encrypt_and_digest` signs and encrypts there. At
rest the key and its passphrase are Fernet tokens (``webapp.services.secrets``).

Every way a key cannot sign is refused up front with a message for the user, so a sync
never fails at 3 a.m. because of a key pasted in the afternoon: not a private key,
several keys in one paste, revoked, expired, no signing-capable (sub)key, or a passphrase
that does not unlock it (checked by signing a probe message).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import gnupg

from delivery.errors import ErrorKind, make_error
from delivery.pgp import KeyInfo, algorithm_label, describe_key, key_timestamp

_PRIVATE_HEADER = "-----BEGIN PGP PRIVATE KEY BLOCK-----"


@dataclass(frozen=True)
class Signer:
    """A signing key as packaging needs it; repr never shows the key or the passphrase."""

    fingerprint: str
    armored_private: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    # As checked when the key was stored: a run refuses an expired key in words.
    expires_at: datetime | None = None


def _gpg(home: Path) -> gnupg.GPG:
    # An agent is needed for secret-key work (gpg 2.1+); it runs in this home only.
    return gnupg.GPG(gnupghome=str(home))


@contextlib.contextmanager
def _throwaway_home() -> Iterator[Path]:
    # Short path under /tmp: the agent's socket path is length-limited.
    home = Path(tempfile.mkdtemp(prefix="lsync-sign-"))
    try:
        os.chmod(home, 0o700)
        # The agent re-protects an imported key with its own passphrase hashing, which it
        # first calibrates to ~100 ms of CPU and then pays on every unlock: seconds on a
        # busy machine, for a home that lives one packaging step. The lowest count is
        # enough here; the key at rest is the user's own export, Fernet-encrypted.
        (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
        yield home
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(home, ignore_errors=True)


def _secret_key(gpg: gnupg.GPG, armored: str) -> KeyInfo:
    """Import the one secret key of ``armored`` and describe it, or ValueError."""
    result = gpg.import_keys(armored)
    secret = list(gpg.list_keys(secret=True))
    if not secret or not result.fingerprints:
        raise ValueError(
            "No private key could be read from this block; it may be damaged or cut short. "
            "Export it again with gpg --armor --export-secret-keys."
        )
    if len(secret) > 1:
        raise ValueError("This block holds several private keys. Paste the one signing key only.")
    raw = secret[0]
    public = {k["fingerprint"]: k for k in gpg.list_keys()}.get(raw["fingerprint"], raw)
    info = KeyInfo(
        fingerprint=raw["fingerprint"],
        user_ids=tuple(raw.get("uids") or ()),
        expires_at=key_timestamp(raw.get("expires", "")),
        can_encrypt="E" in (public.get("cap") or ""),
        algorithm=algorithm_label(raw),
        created_at=key_timestamp(raw.get("date", "")),
        can_sign="S" in (public.get("cap") or ""),
    )
    if public.get("trust") == "r":
        raise ValueError(f"The signing key {describe_key(info)} is revoked. Use a current key.")
    if public.get("trust") == "e" or (
        info.expires_at is not None and info.expires_at <= datetime.now(UTC)
    ):
        when = f" on {info.expires_at:%Y-%m-%d}" if info.expires_at else ""
        raise ValueError(
            f"The signing key {describe_key(info)} expired{when}. Extend it or use a renewed key."
        )
    if not info.can_sign:
        raise ValueError(
            f"The key {describe_key(info)} cannot sign (no usable signing key or subkey). "
            "Use a key with the sign capability."
        )
    return info


def _unlocks(gpg: gnupg.GPG, fingerprint: str, passphrase: str) -> bool:
    signed = gpg.sign(
        "Loyalty Sync signing-key check\n",
        keyid=fingerprint,
        passphrase=passphrase,
        extra_args=["--pinentry-mode", "loopback"],
    )
    return bool(signed.data) and signed.status == "signature created"


def inspect_secret_key(armored: str, passphrase: str) -> KeyInfo:
    """Describe the one private key in ``armored`` after checking it can sign with
    ``passphrase``; raises ``ValueError`` with a message for the user otherwise."""
    return check_signing_key(armored, passphrase)[0]


def check_signing_key(armored: str, passphrase: str) -> tuple[KeyInfo, str]:
    """:func:`inspect_secret_key`, and the key's own export to store.

    The export holds that key alone, protected by the same passphrase with the lowest
    passphrase-hashing count (this home's agent): the stored copy is Fernet-encrypted with
    its passphrase beside it, so a costly count would only add about half a second to
    every signed file (measured by ``bench/package.py``), never protection.
    """
    text = (armored or "").strip()
    if _PRIVATE_HEADER not in text:
        if "PUBLIC KEY BLOCK" in text:
            raise ValueError(
                "This is a public key. A signing key is your own private key "
                f"({_PRIVATE_HEADER}); recipients' public keys go under Recipient keys."
            )
        raise ValueError(
            "This is not an ASCII-armored PGP private key. Paste the whole block, from "
            f"{_PRIVATE_HEADER} to the END line."
        )
    with _throwaway_home() as home:
        gpg = _gpg(home)
        info = _secret_key(gpg, text)
        if not _unlocks(gpg, info.fingerprint, passphrase or ""):
            raise ValueError(
                f"The passphrase does not unlock the signing key {describe_key(info)} "
                "(or the key cannot make a signature). Enter its passphrase again."
            )
        export = str(
            gpg.export_keys(
                info.fingerprint, secret=True, passphrase=passphrase or "", expect_passphrase=True
            )
        )
        held = [k["fingerprint"] for k in gpg.scan_keys_mem(export)] if export else []
    # An export that is not that key alone (it never should be): keep the paste as given.
    return info, export if held == [info.fingerprint] else text


@contextlib.contextmanager
def signing_home(signer: Signer, recipient_keys: Sequence[str]) -> Iterator[Path]:
    """A throw-away GNUPGHOME holding the signing key and the recipients' public keys.

    Its expiry (as stored) is checked first, so a key that expired since it was saved
    fails the run in words; what else could make it unusable was refused when it was
    stored (:func:`check_signing_key`).
    """
    if signer.expires_at is not None and signer.expires_at <= datetime.now(UTC):
        reason = (
            f"the signing key {signer.fingerprint} expired on {signer.expires_at:%Y-%m-%d}; "
            "upload a renewed key or remove it"
        )
        raise make_error(ErrorKind.ENCRYPTION, reason, reason=reason)
    with _throwaway_home() as home:
        # One import for the key and the recipients: each gpg start counts on every file.
        imported = _gpg(home).import_keys("\n".join([signer.armored_private, *recipient_keys]))
        if signer.fingerprint not in set(imported.fingerprints):
            reason = f"the stored signing key {signer.fingerprint} could not be imported"
            raise make_error(ErrorKind.ENCRYPTION, reason, reason=reason)
        yield home
