"""PGP: check the recipient keys a user pastes, and encrypt deliverables to them.

Everything runs through python-gnupg and the ``gpg`` binary with a GNUPGHOME that the
app owns (created 0700; ``~/.gnupg`` is never touched). Key inspection works on a
throw-away home unless the caller passes one, so a pasted key is never imported just
for being looked at. Each stored key is that key's own export (:func:`split_public_keys`),
never the whole paste it came in. Encryption imports the sync's keys into the app's home
and names the recipients by the full fingerprints the caller passes (the stored ones), so
neither other keys in that keyring nor other keys in a stored block are ever used.

gpg writes the ciphertext straight to the target; this process hashes the target as it
grows (:func:`encrypt_and_digest`), on another core while gpg encrypts, so the
deliverable's SHA-256 is ready when gpg exits instead of costing a second pass. With a signing key
(:mod:`delivery.pgp_signing`) the same command also signs (``--sign --encrypt``).

Files are compressed before they get here, so gpg's own compression is off
(``--compress-algo none``): compressing twice costs time and gains nothing. Trust is
``always``: the user chose these keys explicitly; there is no web of trust to consult.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import subprocess
import tempfile
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gnupg

from delivery.errors import ErrorKind, make_error

if TYPE_CHECKING:
    from delivery.pgp_signing import Signer

_ALGORITHMS = {
    "1": "RSA",
    "2": "RSA",
    "3": "RSA",
    "16": "ElGamal",
    "17": "DSA",
    "18": "ECDH",
    "19": "ECDSA",
    "22": "EdDSA",
}
_PUBLIC_HEADER = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
_COPY_BUFFER = 1 << 20
# While gpg writes: how long to wait when the target has no new bytes yet (gpg writes
# about 1 MiB per 2 ms at full speed, so the hashing stays right behind it).
_FOLLOW_PAUSE = 0.001


@dataclass(frozen=True)
class KeyInfo:
    """What the settings page shows about one recipient key."""

    fingerprint: str
    user_ids: tuple[str, ...]
    expires_at: datetime | None
    can_encrypt: bool
    algorithm: str
    created_at: datetime | None = None
    can_sign: bool = False


def prepare_gnupg_home(path: Path) -> Path:
    """Create the app's GNUPGHOME (mode 0700, which gpg insists on) and return it."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@contextlib.contextmanager
def _home(gnupg_home: Path | None) -> Iterator[Path]:
    if gnupg_home is not None:
        yield prepare_gnupg_home(gnupg_home)
        return
    with tempfile.TemporaryDirectory(prefix="lsync-gpg-") as tmp:
        yield prepare_gnupg_home(Path(tmp))


def _gpg(home: Path) -> gnupg.GPG:
    # --no-autostart: public-key work needs no gpg-agent, so none is left running.
    gpg = gnupg.GPG(gnupghome=str(home), options=["--no-autostart"])
    gpg.buffer_size = _COPY_BUFFER
    return gpg


def key_timestamp(value: str) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def algorithm_label(key: dict[str, Any]) -> str:
    name = _ALGORITHMS.get(str(key.get("algo", "")), f"algorithm {key.get('algo')}")
    curve = key.get("curve") or ""
    return f"{name} {curve}" if curve else f"{name} {key.get('length', '')}".strip()


def describe_key(key: KeyInfo) -> str:
    who = key.user_ids[0] if key.user_ids else "no user id"
    return f"{key.fingerprint} ({who})"


@functools.lru_cache(maxsize=128)
def _scan(text: str) -> tuple[int, tuple[dict[str, Any], ...]]:
    """What ``gpg --show-keys`` says about a block, in a throw-away home.

    Cached: packaging checks every stored key before each file, and the listing of the
    same text never changes (expiry and capabilities are judged against the clock by the
    caller, each time).
    """
    with _home(None) as home:
        result = _gpg(home).scan_keys_mem(text)
    return result.returncode, tuple(result)


def inspect_public_key(
    armored: str, gnupg_home: Path | None = None, *, only: Collection[str] | None = None
) -> list[KeyInfo]:
    """Describe every key in an ASCII-armored public key block.

    Raises ``ValueError`` with a message for the user when the text is not a public key,
    holds a private key, or a key in it is revoked, expired or cannot encrypt. With
    ``only`` (full fingerprints), other keys in the block are neither checked nor listed.
    """
    text = (armored or "").strip()
    if "PRIVATE KEY BLOCK" in text:
        raise ValueError(
            "This is a private key. Paste the recipient's public key instead "
            "(and never send a private key to anyone)."
        )
    if _PUBLIC_HEADER not in text:
        raise ValueError(
            "This is not an ASCII-armored PGP public key. Paste the whole block, from "
            f"{_PUBLIC_HEADER} to the END line."
        )
    if gnupg_home is None:
        returncode, scanned = _scan(text)
    else:
        with _home(gnupg_home) as home:
            result = _gpg(home).scan_keys_mem(text)
        returncode, scanned = result.returncode, tuple(result)
    # gpg lists what it could parse of a damaged block, so its exit status decides.
    if not scanned or returncode != 0:
        raise ValueError(
            "No key could be read from this block; it may be damaged or cut short. "
            "Ask the recipient to export it again."
        )
    keys: list[KeyInfo] = []
    now = datetime.now(UTC)
    for raw in scanned:
        if raw.get("type") != "pub":
            raise ValueError("This block holds a private key. Paste the public key only.")
        if only is not None and raw["fingerprint"] not in only:
            continue
        info = KeyInfo(
            fingerprint=raw["fingerprint"],
            user_ids=tuple(raw.get("uids") or ()),
            expires_at=key_timestamp(raw.get("expires", "")),
            # Upper-case capabilities are those of the whole key, usable subkeys included.
            can_encrypt="E" in (raw.get("cap") or ""),
            algorithm=algorithm_label(raw),
            created_at=key_timestamp(raw.get("date", "")),
        )
        if raw.get("trust") == "r":
            raise ValueError(f"The key {describe_key(info)} is revoked. Ask for a current key.")
        if raw.get("trust") == "e" or (info.expires_at is not None and info.expires_at <= now):
            when = f" on {info.expires_at:%Y-%m-%d}" if info.expires_at else ""
            raise ValueError(
                f"The key {describe_key(info)} expired{when}. Ask the recipient for a renewed key."
            )
        if not info.can_encrypt:
            raise ValueError(
                f"The key {describe_key(info)} has no usable encryption subkey (it can only sign, "
                "or its encryption subkey expired). Ask the recipient for an encryption key."
            )
        keys.append(info)
    return keys


def split_public_keys(armored: str, fingerprints: Sequence[str]) -> dict[str, str]:
    """Each key's own ASCII-armored export (``gpg --export --armor FINGERPRINT``).

    One paste may hold several keys; storing the whole paste with each of them would keep
    every other key of the paste alive in each stored copy. The block is imported into a
    throw-away home, never the app's. Raises ``ValueError`` when a key is not in the block.
    """
    with _home(None) as home:
        gpg = _gpg(home)
        imported = set(gpg.import_keys(armored).fingerprints)
        own: dict[str, str] = {}
        for fingerprint in fingerprints:
            export = str(gpg.export_keys(fingerprint)) if fingerprint in imported else ""
            # The export must hold that key and no other (a name can match more than one).
            held = [key["fingerprint"] for key in gpg.scan_keys_mem(export)] if export else []
            if held != [fingerprint]:
                raise ValueError(f"The key {fingerprint} could not be exported on its own.")
            own[fingerprint] = export
    return own


@dataclass(frozen=True)
class Encrypted:
    """What :func:`encrypt_and_digest` wrote: to whom, and the target's size and SHA-256."""

    recipients: list[str]
    size: int
    sha256: str


def encrypt_file(
    source: Path,
    target: Path,
    recipient_keys: Sequence[str],
    gnupg_home: Path,
    *,
    recipients: Sequence[str],
    armor: bool = False,
) -> list[str]:
    """Encrypt ``source`` to exactly the keys ``recipients`` names; return their fingerprints.

    See :func:`encrypt_and_digest`, which also signs and returns the digest.
    """
    return encrypt_and_digest(
        source, target, recipient_keys, gnupg_home, recipients=recipients, armor=armor
    ).recipients


def _checked_recipients(recipient_keys: Sequence[str], recipients: Sequence[str]) -> list[str]:
    fingerprints = list(dict.fromkeys(f.strip().upper() for f in recipients if f.strip()))
    if not recipient_keys or not fingerprints:
        raise make_error(ErrorKind.ENCRYPTION, reason="no recipient public key is configured")
    found: set[str] = set()
    for armored in recipient_keys:
        try:
            found.update(key.fingerprint for key in inspect_public_key(armored, only=fingerprints))
        except ValueError as exc:
            raise make_error(ErrorKind.ENCRYPTION, str(exc), reason=str(exc)) from None
    absent = [f for f in fingerprints if f not in found]
    if absent:
        reason = f"no stored public key has the fingerprint {', '.join(absent)}"
        raise make_error(ErrorKind.ENCRYPTION, reason, reason=reason)
    return fingerprints


def encrypt_and_digest(
    source: Path,
    target: Path,
    recipient_keys: Sequence[str],
    gnupg_home: Path,
    *,
    recipients: Sequence[str],
    armor: bool = False,
    signer: Signer | None = None,
) -> Encrypted:
    """Encrypt ``source`` to exactly the keys ``recipients`` names (and sign it with
    ``signer``), writing ``target`` and hashing it on the way.

    ``recipients`` are full fingerprints (the stored ones); ``recipient_keys`` are the
    armored blocks holding those keys. Any other key in a block is not encrypted to, so a
    block stored with more keys than its own never adds a recipient. Raises
    :class:`~delivery.errors.DeliveryError` (``encryption``) when a named key is missing or
    unusable, the signing key cannot sign, or gpg fails; nothing is left at ``target``.
    """
    fingerprints = _checked_recipients(recipient_keys, recipients)
    if signer is None:
        home = prepare_gnupg_home(gnupg_home)
        _import_recipients(_gpg(home), recipient_keys, fingerprints)
        return _run_gpg(home, source, target, fingerprints, armor, None)
    from delivery.pgp_signing import signing_home

    with signing_home(signer, recipient_keys) as home:
        return _run_gpg(home, source, target, fingerprints, armor, signer)


# (home, the keys' text) -> the keyring file's identity right after they were imported.
_IMPORTED: dict[tuple[str, str], tuple[int, int, int]] = {}


def _keyring_state(home: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(home / "pubring.kbx")
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _import_recipients(gpg: gnupg.GPG, recipient_keys: Sequence[str], wanted: list[str]) -> None:
    """Import the keys into the app's home, unless this process imported exactly these
    into the keyring as it still is (an unchanged file: one gpg start fewer per file)."""
    text = "\n".join(recipient_keys)
    memo = (str(gpg.gnupghome), hashlib.sha256(text.encode("utf-8")).hexdigest())
    state = _keyring_state(Path(gpg.gnupghome))
    if state is not None and _IMPORTED.get(memo) == state:
        return
    imported = gpg.import_keys(text)
    missing = set(wanted) - set(imported.fingerprints)
    if missing:
        raise make_error(
            ErrorKind.ENCRYPTION,
            str(imported.stderr),
            reason=f"gpg did not import the key(s) {', '.join(sorted(missing))}",
        )
    after = _keyring_state(Path(gpg.gnupghome))
    if after is not None:
        _IMPORTED[memo] = after


def _run_gpg(
    home: Path,
    source: Path,
    target: Path,
    fingerprints: list[str],
    armor: bool,
    signer: Signer | None,
) -> Encrypted:
    command = [
        "gpg",
        "--homedir",
        str(home),
        "--batch",
        "--no-tty",
        "--yes",
        "--trust-model",
        "always",
        "--compress-algo",
        "none",
        *(["--armor"] if armor else []),
        *(f"--recipient={f}" for f in fingerprints),
    ]
    if signer is None:
        command += ["--no-autostart", "--encrypt"]
    else:
        # "!" pins the exact (primary) key; the passphrase comes on stdin, never argv.
        command += [
            "--pinentry-mode",
            "loopback",
            "--passphrase-fd",
            "0",
            f"--local-user={signer.fingerprint}!",
            "--sign",
            "--encrypt",
        ]
    command += ["--output", "-", "--", str(source)]
    try:
        return _stream(command, target, signer, fingerprints)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        raise


def _stream(
    command: list[str], target: Path, signer: Signer | None, fingerprints: list[str]
) -> Encrypted:
    """Run gpg writing ``target`` itself, and hash ``target`` as it grows.

    gpg's standard output is the target file (no copy through this process); the target
    is read back from the page cache while gpg still writes, so the SHA-256 is ready when
    gpg exits instead of costing a second pass afterwards.
    """
    hasher = hashlib.sha256()
    size = 0
    buffer = bytearray(_COPY_BUFFER)
    view = memoryview(buffer)
    with (
        tempfile.TemporaryFile() as errors,
        open(target, "wb") as out,
        open(target, "rb", buffering=0) as follow,
    ):
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if signer is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=errors,
        )
        try:
            if signer is not None and process.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.write(signer.passphrase.encode("utf-8") + b"\n")
                process.stdin.close()
            finished = False
            while True:
                n = follow.readinto(buffer)
                if n:
                    hasher.update(view[:n])
                    size += n
                elif finished:
                    break  # gpg is done and every byte it wrote was read
                elif process.poll() is not None:
                    finished = True  # one more read: what it wrote before exiting
                else:
                    time.sleep(_FOLLOW_PAUSE)
        finally:
            code = process.wait()
        if code != 0:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace").strip()
            raise make_error(ErrorKind.ENCRYPTION, said, reason=f"gpg said: {_last_line(said)}")
    return Encrypted(recipients=fingerprints, size=size, sha256=hasher.hexdigest())


def _last_line(text: str) -> str:
    lines = [line.removeprefix("gpg: ") for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
