"""Turn an original export file into the deliverable that is sent to every destination.

Order: compress (none, gzip or zip), then encrypt (PGP) — encrypted data does not
compress. Names follow :func:`delivery.naming.deliverable_name`: ``name.txt`` ->
``name.txt.gz`` or ``name.txt.zip`` -> ``+ .pgp``. A zip holds the original under its own
name.

The deliverable always lands in ``out_dir``. Intermediate files are written in a hidden
work folder inside ``out_dir`` (same file system, so the final ``os.replace`` is atomic)
and removed afterwards: a crash never leaves a half-written deliverable under its final
name. When there is nothing to do (no compression, no encryption) the deliverable is a
**hard link** to the original in ``out_dir`` (a copy where hard links are impossible,
e.g. across file systems; the original itself when ``out_dir`` is its folder). Originals
are never modified after creation, so sharing their bytes is safe.

Size and SHA-256 of originals and deliverables come from :func:`digest` (an encrypted
deliverable's from the encryption step, which hashes while it writes); the run keeps
both so that every destination can be checked to receive the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from delivery.compression import gzip_file, zip_file
from delivery.errors import DeliveryError, ErrorKind, make_error
from delivery.naming import COMPRESSION_SUFFIX, PGP_SUFFIX, deliverable_name
from delivery.pgp import encrypt_and_digest
from delivery.pgp_signing import Signer

_HASH_BUFFER = 1 << 20
Compression = Literal["none", "gzip", "zip"]


@dataclass(frozen=True)
class FileDigest:
    path: Path
    name: str
    size: int
    sha256: str


def digest(path: Path) -> FileDigest:
    """Size and SHA-256 (hex) of a file, read once."""
    path = Path(path)
    hasher = hashlib.sha256()
    size = 0
    buffer = bytearray(_HASH_BUFFER)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as src:
            while n := src.readinto(buffer):
                hasher.update(view[:n])
                size += n
    except OSError as exc:
        raise make_error(ErrorKind.LOCAL, repr(exc), reason=f"{path}: {exc.strerror}") from exc
    return FileDigest(path=path, name=path.name, size=size, sha256=hasher.hexdigest())


@dataclass(frozen=True)
class PackageSpec:
    """How a sync packages its files: compression, then optional PGP encryption."""

    compression: Compression = "none"
    encrypt: bool = False
    recipient_keys: tuple[str, ...] = field(default=(), repr=False)
    # The full fingerprints files are encrypted to: the stored recipients, and no other key
    # a block in recipient_keys may hold.
    recipient_fingerprints: tuple[str, ...] = ()
    armor: bool = False
    gnupg_home: Path | None = None
    # Sign as well as encrypt (``gpg --sign --encrypt``); only with ``encrypt``.
    signer: Signer | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.compression not in COMPRESSION_SUFFIX:
            raise ValueError(
                f"Compression must be one of {', '.join(COMPRESSION_SUFFIX)}, "
                f"not {self.compression!r}."
            )
        # Accept any sequence, keep a tuple so the spec stays hashable and immutable.
        object.__setattr__(self, "recipient_keys", tuple(self.recipient_keys))
        object.__setattr__(self, "recipient_fingerprints", tuple(self.recipient_fingerprints))
        if self.encrypt and not self.recipient_keys:
            raise ValueError("PGP encryption needs at least one recipient public key.")
        if self.encrypt and not self.recipient_fingerprints:
            raise ValueError("PGP encryption needs the recipients' key fingerprints.")
        if self.encrypt and self.gnupg_home is None:
            raise ValueError("PGP encryption needs the app's GnuPG home folder.")
        if self.signer is not None and not self.encrypt:
            raise ValueError("Files are signed as they are encrypted: turn PGP encryption on.")

    def deliverable_name(self, original_name: str) -> str:
        return deliverable_name(original_name, self.compression, self.encrypt)


def package(original: Path, out_dir: Path, spec: PackageSpec) -> FileDigest:
    """Build the deliverable for ``original`` in ``out_dir`` and return its digest."""
    original = Path(original)
    out_dir = Path(out_dir)
    if not original.is_file():
        raise make_error(ErrorKind.LOCAL, reason=f"{original} does not exist or is not a file")
    final = out_dir / spec.deliverable_name(original.name)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if spec.compression == "none" and not spec.encrypt:
            _link_or_copy(original, final)
            return digest(final)
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".packaging-") as work_dir:
            work = Path(work_dir)
            current = original
            if spec.compression == "gzip":
                step = work / (current.name + COMPRESSION_SUFFIX["gzip"])
                gzip_file(current, step)
                current = step
            elif spec.compression == "zip":
                step = work / (current.name + COMPRESSION_SUFFIX["zip"])
                zip_file(current, step, arcname=original.name)
                current = step
            encrypted = None
            if spec.encrypt:
                assert spec.gnupg_home is not None  # checked by PackageSpec
                step = work / (current.name + PGP_SUFFIX)
                encrypted = encrypt_and_digest(
                    current,
                    step,
                    spec.recipient_keys,
                    spec.gnupg_home,
                    recipients=spec.recipient_fingerprints,
                    armor=spec.armor,
                    signer=spec.signer,
                )
                current = step
            os.replace(current, final)
            if encrypted is not None:
                # Hashed while gpg wrote it: no second read of the deliverable.
                return FileDigest(
                    path=final, name=final.name, size=encrypted.size, sha256=encrypted.sha256
                )
    except DeliveryError:
        raise
    except OSError as exc:
        raise make_error(
            ErrorKind.LOCAL, repr(exc), reason=f"packaging {original.name}: {exc.strerror}"
        ) from exc
    return digest(final)


def _link_or_copy(original: Path, final: Path) -> None:
    if final.exists() and os.path.samefile(original, final):
        return
    partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
    try:
        try:
            os.link(original, partial)
        except OSError:
            # Other file system, or links not allowed there: fall back to a copy.
            shutil.copyfile(original, partial)
        os.replace(partial, final)
    finally:
        if partial.exists():
            partial.unlink()
