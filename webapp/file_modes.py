"""File modes for what the app writes: member data and secrets are for this account only.

Exports hold member data, the SQLite database holds everything, the instance folder holds
the session and secrets keys. Under a common umask of 022 they were created readable by
every local account. So every process that creates the app (web, workers, scheduler, CLI)
sets the umask from ``UMASK`` (default ``077``: new files 0600, new folders 0700), and the
instance folder, the export folder and the SQLite file are made 0700/0600 whatever the
umask, existing ones included, because an export folder's mode is what guards every run's
files below it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def parse_umask(value: Any) -> int | None:
    """The umask a setting names, as octal digits (``"077"``, ``"0o27"``; a JSON number
    such as ``22`` from the environment reads as the digits ``"22"``); None, ``""`` or
    ``"inherit"`` leave the process's umask alone."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"UMASK must be octal digits such as 077, not {value!r}")
    text = str(value).strip().lower()
    if text in ("", "inherit"):
        return None
    digits = text.removeprefix("0o")
    try:
        mask = int(digits, 8)
    except ValueError:
        raise ValueError(f"UMASK must be octal digits such as 077, not {value!r}") from None
    if not 0 <= mask <= 0o777:
        raise ValueError(f"UMASK must be between 000 and 777, not {value!r}")
    return mask


def apply_umask(value: Any) -> int | None:
    """Set the process umask from the setting; returns the mask set (None: unchanged)."""
    mask = parse_umask(value)
    if mask is not None:
        os.umask(mask)
    return mask


def private_dir(path: Path) -> None:
    """Create ``path`` (and its missing parents) and make it 0700. A folder someone else
    owns (a share mounted for the service) keeps its mode: chmod is the owner's."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _restrict(path, PRIVATE_DIR)


def private_sqlite_file(uri: str) -> Path | None:
    """For a file-backed SQLite URI, create the database file 0600 before SQLite does (it
    would create it 0644 under a 022 umask; its journal and WAL files copy its mode), or
    make an existing one 0600. Returns the file, or None for other databases."""
    url = make_url(uri)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        _restrict(path, PRIVATE_FILE)
    else:
        os.close(fd)  # an empty file is an empty SQLite database
    return path


def _restrict(path: Path, mode: int) -> None:
    info = path.stat()
    if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & ~mode == 0:
        return
    os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
