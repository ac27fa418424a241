"""File names: deliverables, temporary upload names and probe files.

Receivers poll their directory for finished files (``*.txt``, ``*.gz``, ...), so a file
must appear under its final name only when it is complete. Uploads therefore go to a
temporary name in the same directory and are renamed at the end. The temporary name
starts with a dot (hidden from ``ls`` and from shell or FTP globs such as ``*.txt``),
keeps the final name for whoever looks at a stale one, and ends in ``.part`` so no
pattern for the real extension matches it: ``.members.txt.gz.3f9a1c2e.part``.
"""

from __future__ import annotations

import secrets

from delivery.errors import ErrorKind, make_error

COMPRESSION_SUFFIX = {"none": "", "gzip": ".gz", "zip": ".zip"}
PGP_SUFFIX = ".pgp"
TEMP_SUFFIX = ".part"
PROBE_PREFIX = ".lsync-probe-"
# POSIX file systems and every FTP/SFTP server we know limit a name to 255 bytes.
MAX_NAME_BYTES = 255
_FORBIDDEN = ("/", "\\", "\x00", "\r", "\n")


def deliverable_name(original: str, compression: str, encrypt: bool) -> str:
    """``name.txt`` -> ``name.txt.gz`` / ``name.txt.zip``, then ``+ .pgp`` when encrypted.

    Armored output keeps ``.pgp``: receivers match on one suffix whatever the encoding.
    """
    try:
        suffix = COMPRESSION_SUFFIX[compression]
    except KeyError:
        raise ValueError(f"Unknown compression {compression!r}.") from None
    return original + suffix + (PGP_SUFFIX if encrypt else "")


def validate_remote_name(name: str) -> str:
    """Return ``name`` if it is a plain file name a server will store as given."""
    problem = None
    if not name or name in (".", ".."):
        problem = "the file name is empty"
    elif any(ch in name for ch in _FORBIDDEN):
        problem = f"the file name {name!r} contains a slash or a control character"
    elif len(name.encode("utf-8")) > MAX_NAME_BYTES:
        problem = f"the file name is longer than {MAX_NAME_BYTES} bytes"
    elif name != name.strip():
        problem = f"the file name {name!r} starts or ends with a space"
    if problem:
        raise make_error(ErrorKind.CONFIG, problem, reason=problem)
    return name


def temp_name(final: str, token: str | None = None) -> str:
    """The hidden name a file is uploaded under before the rename to ``final``."""
    token = token or secrets.token_hex(4)
    tail = f".{token}{TEMP_SUFFIX}"
    stem = final
    # Shorten the copied final name (never the token) to stay within the byte limit.
    while len(("." + stem + tail).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return "." + stem + tail


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def probe_name() -> str:
    """A hidden, unique name for the write test of "Test connection"."""
    return f"{PROBE_PREFIX}{secrets.token_hex(6)}{TEMP_SUFFIX}"
