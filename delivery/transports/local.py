"""A local folder as a destination: for tests, and for drops on a mounted share.

Same guarantees as the network transports: the file is written under a hidden temporary
name in the target folder, flushed to disk (``fsync``: on a share, the receiver's side
should never see a renamed file whose bytes are still in our cache), and renamed.
``overwrite=True`` uses ``os.replace`` (atomic); ``overwrite=False`` uses ``os.link``
then unlinks the temporary name, which fails if the final name exists, even if it
appeared a moment ago.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Any

from delivery.errors import DeliveryError, ErrorKind
from delivery.transports.base import Progress, Source, Transport

BLOCK_SIZE = 1 << 20


class LocalTransport(Transport):
    def __init__(self, endpoint: Any) -> None:
        super().__init__(endpoint)
        self._folder = Path(endpoint.directory)

    def _connect(self, *, accept_new_host_key: bool) -> None:
        if not self.endpoint.directory:
            raise self._error(ErrorKind.CONFIG, reason="no folder is set")
        if not self._folder.is_dir():
            raise self._error(ErrorKind.NO_DIRECTORY, f"{self._folder} is not a directory")

    def _close(self) -> None:
        pass

    def _abort(self) -> None:
        pass

    def _remote_path(self, name: str) -> str:
        return str(self._folder / name) if name else str(self._folder)

    def _exists(self, name: str) -> bool:
        return os.path.lexists(self._folder / name)

    def _store(self, source: Source, name: str, size: int, progress: Progress | None) -> None:
        buffer = bytearray(BLOCK_SIZE)
        view = memoryview(buffer)
        written = 0
        with open(self._folder / name, "xb") as target:
            while written < size:
                count = source.readinto(view[: min(BLOCK_SIZE, size - written)])
                if not count:
                    break
                target.write(view[:count])
                written += count
                if progress is not None:
                    progress(written, size)
            target.flush()
            os.fsync(target.fileno())

    def _size(self, name: str) -> int:
        return os.stat(self._folder / name).st_size

    def _rename(self, source: str, target: str, overwrite: bool) -> None:
        old, new = self._folder / source, self._folder / target
        if overwrite:
            os.replace(old, new)
            return
        try:
            os.link(old, new)
        except FileExistsError as exc:
            raise self._error(ErrorKind.REMOTE_EXISTS, str(exc), name=target) from exc
        os.unlink(old)

    def _remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._folder / name)

    def _translate(self, exc: Exception) -> DeliveryError | None:
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                return self._error(ErrorKind.DISK_FULL, detail, name="the file")
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return self._error(ErrorKind.PERMISSION, detail)
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return self._error(ErrorKind.NO_DIRECTORY, detail)
            return self._error(ErrorKind.LOCAL, detail, reason=str(exc))
        return None
