"""The one transport interface, and the upload and test procedures all protocols share.

Each protocol implements a handful of primitives (store a stream under a name, stat a
size, rename, remove) and a translation of its exceptions into
:class:`~delivery.errors.DeliveryError`. The procedures that make the guarantees live
here, once:

* :meth:`Transport.upload` stores under a hidden temporary name in the target directory
  (:func:`delivery.naming.temp_name`), checks that the stored size equals the local size,
  then renames to the final name. A failed or cut transfer leaves nothing under the final
  name and removes its temporary file while the connection still works (a dead
  connection cannot; the leftover is a hidden ``.part`` file no receiver pattern matches,
  and the next attempt of the same transfer removes it: see ``temp_token``).
  Overwrite policy: with ``overwrite=True`` an existing final file is replaced (atomically
  where the protocol can, see each transport); with ``overwrite=False`` the upload stops
  with ``remote_exists`` before sending anything.
* :meth:`Transport.test` connects, logs in, writes and removes a probe file, and reports
  the server's host key or certificate fingerprint, all within a deadline (10 s): a
  watchdog breaks the connection when the deadline passes and the test reports ``timeout``.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

from delivery.errors import DeliveryError, ErrorKind, make_error
from delivery.naming import probe_name, temp_name, validate_remote_name
from delivery.transports.endpoint import Endpoint
from delivery.transports.results import TestResult, UploadResult

Progress = Callable[[int, int], None]


class Source(Protocol):
    """What uploads read from: an open binary file (or ``io.BytesIO`` for the probe)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


T = TypeVar("T")
TEST_DEADLINE = 10.0
_PROBE = b"Loyalty Sync connection test. This file is removed right away.\n"


class Superseded(Exception):
    """The caller's ``still_current`` said no before the rename: another attempt owns the
    transfer now. The temporary file was removed; nothing arrived under the final name."""


class _Cancelled(Exception):
    """Wraps an exception raised by the caller's progress callback, to re-raise it as is."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(repr(original))
        self.original = original


def _guard_progress(progress: Progress | None) -> Progress | None:
    if progress is None:
        return None

    def call(done: int, total: int) -> None:
        try:
            progress(done, total)
        except BaseException as exc:
            raise _Cancelled(exc) from exc

    return call


class Transport(ABC):
    """Connect, test, upload, close. Use as a context manager to close reliably."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.connected = False
        # Set after a timeout or a lost connection: a polite close could block on it.
        self.broken = False
        self._deadline_passed = threading.Event()
        # test() lowers this to its deadline: a TCP connect cannot be aborted from outside.
        self.connect_timeout = endpoint.timeout

    # -- public interface ---------------------------------------------------------------

    def connect(self) -> None:
        """Connect and log in; SFTP refuses a host key that is not the pinned one."""
        if not self.connected:
            try:
                self._call(self._connect, accept_new_host_key=False)
            except BaseException:
                self.close()  # release the half-open connection before reporting
                raise
            self.connected = True

    def close(self) -> None:
        if self.broken:
            self.abort()
        with contextlib.suppress(Exception):
            self._close()
        self.connected = False
        self.broken = False

    def __enter__(self) -> Transport:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def test(self, deadline: float = TEST_DEADLINE) -> TestResult:
        """Connect, log in, write and remove a probe file; fail with ``timeout`` at the deadline.

        Unlike :meth:`connect`, an SFTP host key that is not pinned yet is accepted here
        and returned, for the user to confirm; a pinned key must still match.
        """
        started = time.monotonic()
        self._deadline_passed.clear()
        self.connect_timeout = min(self.endpoint.timeout, deadline)
        watchdog = threading.Timer(deadline, self._on_deadline)
        watchdog.daemon = True
        watchdog.start()
        try:
            if not self.connected:
                try:
                    self._call(self._connect, accept_new_host_key=True)
                except BaseException:
                    self.close()
                    raise
                self.connected = True
            name = probe_name()
            try:
                self._call(self._store, io.BytesIO(_PROBE), name, len(_PROBE), None)
                size = self._call(self._size, name)
                if size != len(_PROBE):
                    raise self._error(
                        ErrorKind.SIZE_MISMATCH,
                        name=name,
                        remote_size=size,
                        local_size=len(_PROBE),
                    )
            except BaseException:
                self._discard(name)
                raise
            self._call(self._remove, name)
        except Exception as exc:
            if self._deadline_passed.is_set():
                self.close()
                raise self._error(
                    ErrorKind.TIMEOUT,
                    f"test deadline of {deadline:g} s passed: {exc!r}",
                    timeout=f"{deadline:g}",
                ) from exc
            raise
        finally:
            watchdog.cancel()
            self.connect_timeout = self.endpoint.timeout
        elapsed = time.monotonic() - started
        return TestResult(
            ok=True,
            message=(
                f"Connected to {self.endpoint.host}:{self.endpoint.effective_port}, logged in "
                f"as {self.endpoint.username or '(none)'} and wrote a test file in "
                f"{self._remote_path('') or '/'}."
            ),
            elapsed_seconds=elapsed,
            **self._identity(),
        )

    def upload(
        self,
        local: Path,
        remote_name: str,
        progress: Progress | None = None,
        overwrite: bool = True,
        temp_token: str | None = None,
        still_current: Callable[[], bool] | None = None,
        leftover_tokens: tuple[str, ...] = (),
    ) -> UploadResult:
        """Send ``local`` as ``remote_name`` in the endpoint's directory; see the module doc.

        ``temp_token`` names the temporary file the same way on every call (the run jobs
        pass the transfer's id): an attempt cut off with its connection leaves its
        temporary file behind, and the next attempt of the same transfer removes it
        before it uploads, so retries never pile up leftovers at a receiver.
        ``leftover_tokens`` names earlier tokens whose temporary files go too.

        ``still_current`` fences the upload: it is asked right before the rename, and a
        False (or an exception: a database that cannot answer cannot vouch either) removes
        the temporary file and raises :class:`Superseded`. The run jobs pass a check of
        the transfer's attempt token (delivery imports nothing of theirs, so it is a
        callback).
        """
        name = validate_remote_name(remote_name)
        local = Path(local)
        started = time.monotonic()
        try:
            source = open(local, "rb", buffering=0)  # noqa: SIM115 - closed below
        except OSError as exc:
            raise make_error(ErrorKind.LOCAL, repr(exc), reason=f"{local}: {exc.strerror}") from exc
        with source:
            size = os.fstat(source.fileno()).st_size
            self.connect()
            self._before_upload()
            if not overwrite and self._call(self._exists, name):
                raise self._error(ErrorKind.REMOTE_EXISTS, name=name)
            partial = temp_name(name, temp_token)
            if temp_token is not None:
                self._discard(partial)  # an earlier attempt's leftover, if there is one
            for token in leftover_tokens:
                self._discard(temp_name(name, token))
            try:
                self._call(self._store, source, partial, size, _guard_progress(progress))
                stored = self._call(self._size, partial)
                if stored != size:
                    raise self._error(
                        ErrorKind.SIZE_MISMATCH,
                        f"{partial}: {stored} != {size}",
                        name=name,
                        remote_size=stored,
                        local_size=size,
                    )
                if still_current is not None and not _vouches(still_current):
                    raise Superseded(f"{name}: another attempt owns this transfer now")
                self._call(self._rename, partial, name, overwrite)
            except _Cancelled as cancelled:
                self._discard(partial)
                raise cancelled.original from None
            except BaseException as exc:
                if not (
                    isinstance(exc, DeliveryError)
                    and exc.kind in (ErrorKind.CONNECTION_LOST, ErrorKind.TIMEOUT)
                ):
                    self._discard(partial)
                raise
        return UploadResult(
            remote_path=self._remote_path(name),
            bytes_sent=size,
            seconds=time.monotonic() - started,
        )

    def abort(self) -> None:
        """Break the connection from any thread; the operation in progress fails."""
        with contextlib.suppress(Exception):
            self._abort()

    # -- for subclasses ------------------------------------------------------------------

    @abstractmethod
    def _connect(self, *, accept_new_host_key: bool) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _abort(self) -> None: ...

    @abstractmethod
    def _exists(self, name: str) -> bool: ...

    @abstractmethod
    def _store(self, source: Source, name: str, size: int, progress: Progress | None) -> None:
        """Write ``size`` bytes from ``source`` to a new file ``name``, reporting progress."""

    @abstractmethod
    def _size(self, name: str) -> int: ...

    @abstractmethod
    def _rename(self, source: str, target: str, overwrite: bool) -> None: ...

    @abstractmethod
    def _remove(self, name: str) -> None: ...

    @abstractmethod
    def _remote_path(self, name: str) -> str: ...

    @abstractmethod
    def _translate(self, exc: Exception) -> DeliveryError | None:
        """The :class:`DeliveryError` for an exception a primitive raised.

        None for exceptions that are not about the server or the network (programming
        errors such as ``TypeError``): those propagate unchanged rather than be disguised
        as a server problem.
        """

    def _before_upload(self) -> None:
        """Refuse to send files over a connection that is only good enough for a test."""
        return

    def _identity(self) -> dict[str, Any]:
        """Fingerprint fields for :class:`TestResult`."""
        return {}

    def _context(self) -> dict[str, Any]:
        endpoint = self.endpoint
        return {
            "host": endpoint.host,
            "port": endpoint.effective_port,
            "user": endpoint.username,
            "directory": endpoint.directory or "(login directory)",
            "service": endpoint.service,
            "timeout": f"{endpoint.timeout:g}",
        }

    def _error(self, kind: ErrorKind, detail: str = "", **context: Any) -> DeliveryError:
        extra = {
            key: context.pop(key)
            for key in ("retryable", "server_fingerprint", "server_key_type", "server_subject")
            if key in context
        }
        return make_error(kind, detail, **extra, **{**self._context(), **context})

    def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except (DeliveryError, _Cancelled):
            raise
        except Exception as exc:
            error = self._translate(exc)
            if error is None:
                raise
            if error.kind in (ErrorKind.TIMEOUT, ErrorKind.CONNECTION_LOST):
                self.broken = True
            raise error from exc

    def remove_if_present(self, name: str) -> None:
        """Remove ``name`` from the endpoint's directory; a missing file is no error.

        The transfer job takes a previous run's completion marker away before it sends
        files again, so no marker stands beside a file that is not (yet) there.
        """
        name = validate_remote_name(name)
        self.connect()
        if self._call(self._exists, name):
            self._call(self._remove, name)

    def _discard(self, name: str) -> None:
        """Remove a temporary file after a failure; never hides the original error."""
        with contextlib.suppress(Exception):
            self._remove(name)

    def _on_deadline(self) -> None:
        self._deadline_passed.set()
        self.abort()


def _vouches(still_current: Callable[[], bool]) -> bool:
    try:
        return bool(still_current())
    except Exception:
        return False


def run_check(transport: Transport, deadline: float = TEST_DEADLINE) -> TestResult:
    """Run :meth:`Transport.test`, close, and turn a :class:`DeliveryError` into a result."""
    started = time.monotonic()
    try:
        with contextlib.closing(transport):
            return transport.test(deadline)
    except DeliveryError as exc:
        return TestResult(
            ok=False,
            message=exc.message,
            elapsed_seconds=time.monotonic() - started,
            host_key_fingerprint=exc.server_fingerprint if exc.server_key_type else None,
            host_key_type=exc.server_key_type,
            tls_fingerprint=None if exc.server_key_type else exc.server_fingerprint,
            tls_subject=exc.server_subject,
            tls_not_after=getattr(transport, "tls_not_after", None),
            error_kind=exc.kind,
            retryable=exc.retryable,
            detail=exc.detail,
        )
