"""A pure-Python SFTP server (paramiko) that stores uploads in one folder.

Password authentication for one user; the host key is created on first start and kept
next to the folder, so its fingerprint (pinned by the demo destinations) stays the same
across restarts. Supports what the transport uses: stat, open/write, rename with
``posix-rename@openssh.com``, remove, mkdir and listing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED

log = logging.getLogger("devservers.sftp")


def load_host_key(path: Path) -> paramiko.Ed25519Key:
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    return paramiko.Ed25519Key(filename=str(path))


def fingerprint(key: paramiko.PKey) -> str:
    return key.fingerprint  # "SHA256:..."


def _errno_code(error: OSError) -> int:
    return paramiko.SFTPServer.convert_errno(error.errno or 0) if error.errno else SFTP_FAILURE


class FolderHandle(paramiko.SFTPHandle):
    def stat(self) -> Any:
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))  # type: ignore[attr-defined]
        except OSError as error:
            return _errno_code(error)


class FolderSFTP(paramiko.SFTPServerInterface):
    """Serves one folder as "/"; paths never leave it."""

    root: Path = Path(".")

    def _real(self, path: str) -> Path:
        relative = os.path.normpath("/" + path).lstrip("/")
        real = (self.root / relative).resolve()
        if real != self.root and self.root not in real.parents:
            raise PermissionError(path)
        return real

    def canonicalize(self, path: str) -> str:
        return "/" + os.path.normpath("/" + path).lstrip("/")

    def list_folder(self, path: str) -> Any:
        try:
            folder = self._real(path)
            result = []
            for name in sorted(os.listdir(folder)):
                attributes = paramiko.SFTPAttributes.from_stat(os.stat(folder / name))
                attributes.filename = name
                result.append(attributes)
            return result
        except OSError as error:
            return _errno_code(error)

    def stat(self, path: str) -> Any:
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as error:
            return _errno_code(error)

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        try:
            real = self._real(path)
            fd = os.open(real, flags | getattr(os, "O_BINARY", 0), 0o644)
        except OSError as error:
            return _errno_code(error)
        mode = (
            "ab"
            if flags & os.O_APPEND
            else ("r+b" if flags & os.O_RDWR else ("wb" if flags & os.O_WRONLY else "rb"))
        )
        handle = FolderHandle(flags)
        stream = os.fdopen(fd, mode)
        handle.filename = str(real)  # type: ignore[attr-defined]
        handle.readfile = stream  # type: ignore[attr-defined]
        handle.writefile = stream  # type: ignore[attr-defined]
        return handle

    def remove(self, path: str) -> int:
        try:
            self._real(path).unlink()
        except OSError as error:
            return _errno_code(error)
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        try:
            target = self._real(newpath)
            if target.exists():
                return SFTP_FAILURE  # plain SFTP rename does not overwrite
            os.rename(self._real(oldpath), target)
        except OSError as error:
            return _errno_code(error)
        return SFTP_OK

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        try:
            os.replace(self._real(oldpath), self._real(newpath))
        except OSError as error:
            return _errno_code(error)
        return SFTP_OK

    def mkdir(self, path: str, attr: Any) -> int:
        try:
            self._real(path).mkdir()
        except OSError as error:
            return _errno_code(error)
        return SFTP_OK

    def rmdir(self, path: str) -> int:
        try:
            self._real(path).rmdir()
        except OSError as error:
            return _errno_code(error)
        return SFTP_OK

    def chattr(self, path: str, attr: Any) -> int:
        return SFTP_OK

    def readlink(self, path: str) -> Any:
        return SFTP_NO_SUCH_FILE

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_PERMISSION_DENIED


class PasswordServer(paramiko.ServerInterface):
    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        if username == self.username and password == self.password:
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return OPEN_SUCCEEDED if kind == "session" else OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class DemoSFTPServer:
    def __init__(
        self, folder: Path, host_key_path: Path, port: int, username: str, password: str
    ) -> None:
        self.folder = folder.resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.host_key = load_host_key(host_key_path)
        self.port = port
        self.username = username
        self.password = password
        self._socket: socket.socket | None = None
        self._stop = threading.Event()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    def listen(self) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(16)
        sock.settimeout(0.5)
        self._socket = sock
        self.port = sock.getsockname()[1]
        return self.port

    def serve_forever(self) -> None:
        if self._socket is None:
            self.listen()
        assert self._socket is not None
        folder = self.folder

        class Rooted(FolderSFTP):
            root = folder

        while not self._stop.is_set():
            try:
                client, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            transport = paramiko.Transport(client)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, Rooted)
            try:
                transport.start_server(server=PasswordServer(self.username, self.password))
            except (paramiko.SSHException, EOFError, OSError) as error:
                log.info("SFTP handshake failed: %s", error)
                transport.close()

    def stop(self) -> None:
        self._stop.set()
        if self._socket is not None:
            self._socket.close()
