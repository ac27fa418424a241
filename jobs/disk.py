"""A full export volume, told as such: how much the build needed and how much was free.

A build that runs out of space (ENOSPC, a quota, or the per-file size limit RLIMIT_FSIZE
of the worker) raises an OSError deep inside an exporter or the packager; the run's page
should say what to fix, not ``OSError: [Errno 28]``. The caller removes the run folder
(the partial files) and fails the run without moving the watermark, so the next run,
once there is space, includes everything.
"""

from __future__ import annotations

import errno
import resource
import shutil
from pathlib import Path

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def disk_full_message(exc: BaseException, folder: Path, export_dir: Path) -> str | None:
    """The run's error when ``exc`` is a full export volume, else None.

    Call it before the run folder is removed: what the build had written there is the
    least it needed.
    """
    full = _full_error(exc)
    if full is None:
        return None
    written = _bytes_under(folder)
    largest = _largest_under(folder)
    try:
        free = shutil.disk_usage(_existing(folder, export_dir)).free
    except OSError:
        free = 0
    if full.errno == errno.EFBIG:
        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            free = min(free, max(0, soft - largest))  # what one more file byte may use
    return (
        f"No space left on the export volume (at least {human_size(written + 1)} needed, "
        f"{human_size(free)} free). The run's partial files were removed; the next run "
        "after space is freed includes everything this one would have."
    )


def _full_error(exc: BaseException) -> OSError | None:
    """``exc`` or an exception it was raised from, when it is a disk-full OSError."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in FULL_ERRNOS:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in _files(folder))


def _largest_under(folder: Path) -> int:
    return max((p.stat().st_size for p in _files(folder)), default=0)


def _existing(folder: Path, export_dir: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate
    return export_dir


def human_size(size: int) -> str:
    """Bytes as people read them (the dashboard's ``filesize`` filter's units)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
