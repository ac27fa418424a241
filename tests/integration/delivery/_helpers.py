"""Small helpers shared by the delivery integration tests."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from delivery.naming import is_temp_name


def random_file(path: Path, size: int) -> Path:
    """A file of ``size`` incompressible bytes (written in 8 MiB pieces)."""
    with open(path, "wb") as handle:
        left = size
        while left:
            piece = min(left, 8 << 20)
            handle.write(os.urandom(piece))
            left -= piece
    return path


def sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def temp_files(folder: Path) -> list[str]:
    return [name for name in listing(folder) if is_temp_name(name)]


class ProgressLog:
    """A progress callback that records calls and can run an action at a threshold."""

    def __init__(self, at: int | None = None, action: Callable[[], Any] | None = None) -> None:
        self.calls: list[tuple[int, int]] = []
        self.at = at
        self.action = action
        self.fired = False

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))
        if self.action is not None and not self.fired and self.at is not None and done >= self.at:
            self.fired = True
            self.action()

    def check_monotonic_to(self, total: int) -> None:
        assert self.calls, "no progress was reported"
        done = [d for d, _ in self.calls]
        assert done == sorted(done)
        assert all(t == total for _, t in self.calls)
        assert self.calls[-1] == (total, total)


__all__ = ["ProgressLog", "listing", "random_file", "sha256", "temp_files"]
