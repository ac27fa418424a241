"""SFTP through paramiko: host key pinning, password or key login, fast atomic uploads.

Pinning: the server's host key is checked right after the key exchange, before any
password or key signature is sent. ``test()`` accepts a key that is not pinned yet and
returns its SHA256 fingerprint for the user to confirm; ``connect()``/``upload()`` require
the pinned key and fail with ``host_key_changed`` (showing the new fingerprint) or
``host_key_unknown``.

Overwrite: with ``overwrite=True`` the temporary file replaces the final one through
``posix-rename@openssh.com`` (rename(2): atomic, a receiver sees the old or the new file,
never neither); servers without that extension get a plain rename, and if that fails
because the target exists, delete-then-rename (a short moment without the file). With
``overwrite=False`` the plain SFTP rename is used, which must fail when the target exists
(OpenSSH does it with link(2)+unlink(2), so even a file created meanwhile is not lost).

Speed: AES-GCM first (cheapest per byte in paramiko, and hardware-accelerated in OpenSSH),
large pipelined writes, and files of 16 MiB or more through two SFTP channels of the
connection (:mod:`delivery.transports.sftp_session`). Login: :mod:`.sftp_auth`.
"""

from __future__ import annotations

import contextlib
import errno
import posixpath
import stat
from typing import Any, cast

import paramiko

from delivery.errors import DeliveryError, ErrorKind
from delivery.transports.base import Progress, Source, Transport
from delivery.transports.fingerprints import normalize_ssh_fingerprint, ssh_fingerprint
from delivery.transports.net import network_error, open_socket
from delivery.transports.sftp_auth import authenticate
from delivery.transports.sftp_session import SFTPSession, SFTPStatusError, write_all

PREFERRED_CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
    "aes192-ctr",
)
_KEY_ALGORITHMS = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}
_SFTP_FAILURE = 4
# Files at least this large go through LANES channels of the connection (see
# sftp_session.write_all); opening a lane costs a round trip and a server process.
LANES = 2
LANE_THRESHOLD = 16 << 20


class SFTPTransport(Transport):
    def __init__(self, endpoint: Any) -> None:
        super().__init__(endpoint)
        self._ssh: paramiko.Transport | None = None
        self._session: SFTPSession | None = None
        self._lanes: list[SFTPSession] = []
        self._lanes_refused = False
        self._base = ""
        self.host_key_fingerprint: str | None = None
        self.host_key_type: str | None = None
        self.cipher: str | None = None
        self._write_length = 0

    # -- connection ------------------------------------------------------------------

    def _connect(self, *, accept_new_host_key: bool) -> None:
        endpoint = self.endpoint
        sock = open_socket(endpoint.address, self.connect_timeout, self._context())
        ssh = paramiko.Transport(sock)
        self._ssh = ssh
        ssh.banner_timeout = ssh.handshake_timeout = ssh.auth_timeout = endpoint.timeout
        options = ssh.get_security_options()
        available = set(options.ciphers)
        options.ciphers = tuple(c for c in PREFERRED_CIPHERS if c in available) + tuple(
            c for c in options.ciphers if c not in PREFERRED_CIPHERS
        )
        if endpoint.host_key_type:
            wanted = _KEY_ALGORITHMS.get(endpoint.host_key_type, (endpoint.host_key_type,))
            usable = tuple(k for k in wanted if k in options.key_types)
            if usable:
                options.key_types = usable
        ssh.start_client(timeout=endpoint.timeout)
        if getattr(ssh, "host_key", None) is None:
            # start_client returns quietly when its timeout passes mid-handshake.
            raise TimeoutError("the SSH handshake did not finish in time")
        self.cipher = ssh.local_cipher  # the direction uploads use
        key = ssh.get_remote_server_key()
        self.host_key_fingerprint = ssh_fingerprint(key.asbytes())
        self.host_key_type = key.get_name()
        self._check_host_key(accept_new_host_key)
        self._authenticate(ssh)
        self._session = SFTPSession.start(ssh, endpoint.timeout)
        self._base = self._resolve_directory(self._session)
        self._write_length = self._session.write_length()

    def _check_host_key(self, accept_new: bool) -> None:
        pinned = self.endpoint.host_key_fingerprint
        if pinned is None:
            if accept_new:
                return
            raise self._error(
                ErrorKind.HOST_KEY_UNKNOWN,
                f"server key {self.host_key_fingerprint}",
                server_fingerprint=self.host_key_fingerprint,
                server_key_type=self.host_key_type,
            )
        try:
            expected = normalize_ssh_fingerprint(pinned)
        except ValueError as exc:
            raise self._error(ErrorKind.CONFIG, str(exc), reason=str(exc)) from None
        if expected != self.host_key_fingerprint:
            raise self._error(
                ErrorKind.HOST_KEY_CHANGED,
                f"pinned {expected}, server {self.host_key_type} {self.host_key_fingerprint}",
                expected=expected,
                actual=self.host_key_fingerprint,
                server_fingerprint=self.host_key_fingerprint,
                server_key_type=self.host_key_type,
            )

    def _authenticate(self, ssh: paramiko.Transport) -> None:
        endpoint = self.endpoint
        if not endpoint.username:
            raise self._error(ErrorKind.CONFIG, reason="no user name is set")
        if not endpoint.private_key and endpoint.password is None:
            raise self._error(
                ErrorKind.CONFIG, reason="neither a password nor a private key is set"
            )
        failures = authenticate(ssh, endpoint)
        if not ssh.is_authenticated():
            raise self._error(ErrorKind.AUTH, "; ".join(failures))

    def _resolve_directory(self, session: SFTPSession) -> str:
        directory = self.endpoint.directory or "."
        try:
            base = session.normalize(directory)
            mode = session.stat(base).st_mode
        except OSError as exc:
            if exc.errno == errno.EACCES:
                raise self._error(ErrorKind.PERMISSION, str(exc)) from exc
            raise self._error(ErrorKind.NO_DIRECTORY, str(exc)) from exc
        if mode is not None and not stat.S_ISDIR(mode):
            raise self._error(ErrorKind.NO_DIRECTORY, f"{base} is not a directory")
        return base

    def _close(self) -> None:
        session, ssh = self._session, self._ssh
        lanes, self._lanes = self._lanes, []
        self._session = self._ssh = None
        try:
            for lane in lanes:
                with contextlib.suppress(Exception):
                    lane.close()
            if session is not None:
                session.close()
        finally:
            if ssh is not None:
                ssh.close()

    def _abort(self) -> None:
        ssh = self._ssh
        if ssh is not None:
            ssh.sock.close()  # the reader thread sees EOF and closes the transport
            ssh.close()

    def _before_upload(self) -> None:
        # test() may have connected with a key that is not pinned; files need a pinned one.
        self._check_host_key(accept_new=False)

    def _identity(self) -> dict[str, Any]:
        return {
            "host_key_fingerprint": self.host_key_fingerprint,
            "host_key_type": self.host_key_type,
        }

    # -- primitives --------------------------------------------------------------------

    @property
    def session(self) -> SFTPSession:
        if self._session is None:
            raise EOFError("not connected")
        return self._session

    def _remote_path(self, name: str) -> str:
        return posixpath.join(self._base, name) if name else self._base

    def _exists(self, name: str) -> bool:
        try:
            self.session.stat(self._remote_path(name))
        except FileNotFoundError:
            return False
        return True

    def _extra_lanes(self, size: int) -> list[SFTPSession]:
        """More SFTP channels for a large file; none if the server will not open them."""
        if size < LANE_THRESHOLD or self._lanes_refused or self._ssh is None:
            return []
        while len(self._lanes) < LANES - 1:
            try:
                self._lanes.append(SFTPSession.start(self._ssh, self.endpoint.timeout))
            except (paramiko.SSHException, OSError, EOFError):
                # e.g. MaxSessions 1: one channel is all this server gives; fine.
                self._lanes_refused = True
                break
        return self._lanes

    def _store(self, source: Source, name: str, size: int, progress: Progress | None) -> None:
        session = self.session
        free = session.free_bytes(self._base)
        if free is not None and free < size:
            raise self._error(ErrorKind.DISK_FULL, f"{free} bytes free, {size} needed", name=name)
        path = self._remote_path(name)
        files = [(session, session.open(path, "wx"))]  # write, create, exclusive
        try:
            for lane in self._extra_lanes(size):
                try:
                    # The file exists now; more handles on it (read+write, no truncation).
                    files.append((lane, lane.open(path, "r+")))
                except OSError:
                    # Servers that lock open files (Windows) allow one handle: use one.
                    self._lanes_refused = True
                    break
            handles = [(lane, cast(bytes, remote.handle)) for lane, remote in files]
            write_all(handles, source, size, progress, self._write_length)
        except SFTPStatusError as exc:
            self._close_files(files)
            # SFTP v3 reports a full disk as a plain "Failure": ask for the free space.
            if exc.code == _SFTP_FAILURE:
                free = session.free_bytes(self._base)
                if free is not None and free < 1024 * 1024:
                    raise self._error(
                        ErrorKind.DISK_FULL, f"{exc}; {free} bytes free", name=name
                    ) from exc
            raise
        except BaseException:
            self._close_files(files)  # a dead connection must not hide the original error
            raise
        for _, remote in files:
            remote.close()

    @staticmethod
    def _close_files(files: list[tuple[SFTPSession, paramiko.SFTPFile]]) -> None:
        for _, remote in files:
            with contextlib.suppress(Exception):
                remote.close()

    def _size(self, name: str) -> int:
        return int(self.session.stat(self._remote_path(name)).st_size or 0)

    def _rename(self, source: str, target: str, overwrite: bool) -> None:
        session = self.session
        old, new = self._remote_path(source), self._remote_path(target)
        if not overwrite:
            try:
                session.rename(old, new)
            except OSError as exc:
                if self._exists(target):
                    raise self._error(ErrorKind.REMOTE_EXISTS, str(exc), name=target) from exc
                raise
            return
        if session.has_posix_rename:
            session.posix_rename(old, new)
            return
        try:
            session.rename(old, new)
        except OSError:
            if not self._exists(target):
                raise
            session.remove(new)
            session.rename(old, new)

    def _remove(self, name: str) -> None:
        self.session.remove(self._remote_path(name))

    # -- errors --------------------------------------------------------------------------

    def _translate(self, exc: Exception) -> DeliveryError | None:
        context = self._context()
        error = network_error(exc, **context)
        if error is not None:
            return error
        detail = f"{type(exc).__name__}: {exc}"
        ssh = self._ssh
        # paramiko reports a dead connection as a bare "Socket is closed" OSError or an
        # SSHException, like some SFTP statuses; the transport state tells them apart.
        if (
            isinstance(exc, OSError | paramiko.SSHException)
            and ssh is not None
            and self._session is not None
            and not ssh.is_active()
        ):
            return self._error(
                ErrorKind.CONNECTION_LOST, detail, reason=str(exc).lower() or "closed"
            )
        if isinstance(exc, paramiko.SSHException):
            cause = exc.__cause__ or exc.__context__
            text = str(exc)
            if "banner" in text.lower() and isinstance(cause, Exception):
                if isinstance(cause, TimeoutError):
                    return self._error(ErrorKind.TIMEOUT, detail)
                return self._error(
                    ErrorKind.PROTOCOL,
                    detail,
                    reason="the server closed the connection without an SSH greeting",
                )
            if type(exc).__name__ == "IncompatiblePeer" or "no acceptable" in text.lower():
                return self._error(ErrorKind.PROTOCOL, detail, reason=text)
            if isinstance(exc, paramiko.ChannelException):
                return self._error(ErrorKind.PROTOCOL, detail, reason="no SFTP subsystem")
            if "Indecipherable" in text:
                return self._error(
                    ErrorKind.PROTOCOL, detail, reason="the server does not speak SSH"
                )
            return self._error(ErrorKind.CONNECTION_LOST, detail, reason=text.lower() or "closed")
        if isinstance(exc, SFTPStatusError):
            return self._error(ErrorKind.SERVER_ERROR, detail, reason=exc.text or "write failed")
        if isinstance(exc, PermissionError):
            return self._error(ErrorKind.PERMISSION, detail)
        if isinstance(exc, FileNotFoundError):
            return self._error(ErrorKind.NO_DIRECTORY, detail)
        if isinstance(exc, OSError):
            return self._error(ErrorKind.SERVER_ERROR, detail, reason=str(exc))
        if isinstance(exc, EOFError):
            return self._error(ErrorKind.CONNECTION_LOST, detail, reason="closed")
        return None
