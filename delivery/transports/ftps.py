"""FTPS, explicit (AUTH TLS, port 21) and implicit (TLS from the first byte, port 990).

Data connections resume the control connection's TLS session
(:mod:`delivery.transports.ftps_client`), which vsftpd's default ``require_ssl_reuse=YES``
and FileZilla Server demand; plain ``ftplib.FTP_TLS`` fails there with "522 session reuse
required". Passive mode, ``PROT P``, binary, UTF-8 names.

Certificates: without a pinned fingerprint the system CAs and the host name are checked
(``cert_untrusted`` / ``cert_mismatch``); with one, exactly that certificate is accepted,
self-signed or not, and nothing else (``cert_mismatch``). When a certificate is refused,
the error carries its fingerprint and subject so the user can confirm and pin it.

Overwrite: the upload is renamed with RNFR/RNTO. Servers that rename with rename(2)
(vsftpd, ProFTPD, Pure-FTPd) replace an existing file atomically. Servers that refuse to
rename onto an existing name (FileZilla Server, IIS) get DELE then RNFR/RNTO: for that
instant the final name is absent, but it never holds a partial file. With
``overwrite=False`` the final name is checked just before the rename; a file a receiver
creates in the milliseconds between would be replaced on rename(2) servers (FTP offers
no exclusive rename).
"""

from __future__ import annotations

import contextlib
import ftplib
import posixpath
import socket
import ssl
from datetime import datetime
from typing import Any

from delivery.errors import DeliveryError, ErrorKind
from delivery.transports.base import Progress, Source, Transport
from delivery.transports.fingerprints import (
    certificate_not_after,
    certificate_subject,
    normalize_tls_fingerprint,
    tls_fingerprint,
)
from delivery.transports.ftps_client import TLSSessionFTP
from delivery.transports.net import network_error, open_socket

BLOCK_SIZE = 1 << 20  # one sendall per MiB: few system calls, TLS records stay 16 KiB
_HOSTNAME_MISMATCH = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


class FTPSTransport(Transport):
    def __init__(self, endpoint: Any) -> None:
        super().__init__(endpoint)
        self._ftp: TLSSessionFTP | None = None
        self._base = ""
        self.tls_fingerprint: str | None = None
        self.tls_subject: str | None = None
        self.tls_not_after: datetime | None = None
        self.tls_version: str | None = None
        self._pin: str | None = None

    @property
    def implicit(self) -> bool:
        return self.endpoint.protocol == "ftps_implicit"

    # -- connection ------------------------------------------------------------------

    def _context_for(self, verify: bool) -> ssl.SSLContext:
        if verify:
            return ssl.create_default_context()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        # A pinned certificate replaces CA and name checks; it is compared after handshake.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _connect(self, *, accept_new_host_key: bool) -> None:
        endpoint = self.endpoint
        if endpoint.tls_fingerprint:
            try:
                self._pin = normalize_tls_fingerprint(endpoint.tls_fingerprint)
            except ValueError as exc:
                raise self._error(ErrorKind.CONFIG, str(exc), reason=str(exc)) from None
        if not endpoint.username or endpoint.password is None:
            raise self._error(ErrorKind.CONFIG, reason="FTPS needs a user name and a password")
        ftp = TLSSessionFTP(self._context_for(verify=self._pin is None), endpoint.timeout)
        self._ftp = ftp
        sock = open_socket(endpoint.address, self.connect_timeout, self._context())
        try:
            ftp.start(sock, endpoint.host, endpoint.effective_port, self.implicit)
        except ssl.SSLCertVerificationError as exc:
            raise self._certificate_refused(exc) from exc
        self._check_peer(ftp.sock)
        try:
            ftp.login(endpoint.username, endpoint.password)
        except ftplib.error_perm as exc:
            raise self._error(ErrorKind.AUTH, str(exc)) from exc
        ftp.prot_p()
        ftp.voidcmd("TYPE I")
        with contextlib.suppress(ftplib.Error):
            ftp.sendcmd("OPTS UTF8 ON")  # some servers only then take UTF-8 names as such
        if endpoint.directory:
            try:
                ftp.cwd(endpoint.directory)
            except ftplib.error_perm as exc:
                raise self._error(ErrorKind.NO_DIRECTORY, str(exc)) from exc
        self._base = ftp.pwd()

    def _check_peer(self, sock: Any) -> None:
        if not isinstance(sock, ssl.SSLSocket):
            raise self._error(ErrorKind.TLS, reason="the connection is not encrypted")
        der = sock.getpeercert(binary_form=True) or b""
        self.tls_fingerprint = tls_fingerprint(der)
        self.tls_subject = certificate_subject(der)
        self.tls_not_after = certificate_not_after(der)
        self.tls_version = sock.version()
        if self._pin is not None and self.tls_fingerprint != self._pin:
            raise self._error(
                ErrorKind.CERT_MISMATCH,
                f"pinned {self._pin}, server {self.tls_fingerprint}",
                reason=(
                    f"pinned {self._pin[:16]}..., server presents {self.tls_fingerprint[:16]}..."
                ),
                server_fingerprint=self.tls_fingerprint,
                server_subject=self.tls_subject,
            )

    def _certificate_refused(self, exc: ssl.SSLCertVerificationError) -> DeliveryError:
        der = self._fetch_certificate()
        fingerprint = tls_fingerprint(der) if der else None
        self.tls_not_after = certificate_not_after(der) if der else None
        kind = (
            ErrorKind.CERT_MISMATCH
            if exc.verify_code in _HOSTNAME_MISMATCH
            else ErrorKind.CERT_UNTRUSTED
        )
        reason = exc.verify_message or str(exc)
        if fingerprint:
            reason += f"; its SHA-256 fingerprint is {fingerprint}"
        return self._error(
            kind,
            str(exc),
            reason=reason,
            server_fingerprint=fingerprint,
            server_subject=certificate_subject(der) if der else None,
        )

    def _fetch_certificate(self) -> bytes:
        """The server's certificate, fetched without verification, to show the user."""
        endpoint = self.endpoint
        probe = TLSSessionFTP(self._context_for(verify=False), endpoint.timeout)
        try:
            sock = socket.create_connection(endpoint.address, timeout=self.connect_timeout)
            probe.start(sock, endpoint.host, endpoint.effective_port, self.implicit)
            assert isinstance(probe.sock, ssl.SSLSocket)
            return probe.sock.getpeercert(binary_form=True) or b""
        except Exception:
            return b""
        finally:
            probe.close()

    def _close(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is None:
            return
        try:
            if ftp.sock is not None:
                ftp.quit()
        finally:
            ftp.close()

    def _abort(self) -> None:
        ftp = self._ftp
        if ftp is None:
            return
        for sock in (ftp.data_socket, ftp.sock):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _identity(self) -> dict[str, Any]:
        return {
            "tls_fingerprint": self.tls_fingerprint,
            "tls_subject": self.tls_subject,
            "tls_not_after": self.tls_not_after,
        }

    # -- primitives --------------------------------------------------------------------

    @property
    def ftp(self) -> TLSSessionFTP:
        if self._ftp is None:
            raise EOFError("not connected")
        return self._ftp

    def _remote_path(self, name: str) -> str:
        return posixpath.join(self._base, name) if name else self._base

    def _exists(self, name: str) -> bool:
        try:
            self._size(name)
        except ftplib.error_perm as exc:
            if str(exc).startswith("550"):
                return False
            raise
        return True

    def _store(self, source: Source, name: str, size: int, progress: Progress | None) -> None:
        ftp = self.ftp
        try:
            conn, _ = ftp.ntransfercmd(f"STOR {name}")
        except ftplib.error_perm as exc:
            if str(exc)[:3] in ("550", "553"):
                raise self._error(ErrorKind.PERMISSION, str(exc)) from exc
            raise
        try:
            for peer in ftp.peer_checks:
                self._check_peer(peer)
            ftp.peer_checks.clear()
            buffer = bytearray(BLOCK_SIZE)
            view = memoryview(buffer)
            sent = 0
            while sent < size:
                count = source.readinto(view[: min(BLOCK_SIZE, size - sent)])
                if not count:
                    break
                conn.sendall(view[:count])
                sent += count
                if progress is not None:
                    progress(sent, size)
            if isinstance(conn, ssl.SSLSocket):
                # close_notify: without it the server must assume the upload was cut short.
                conn.unwrap()
        except OSError as exc:
            # The server may have dropped the data connection on purpose (disk full, quota);
            # its reply on the control connection says why, if that connection still lives.
            conn.close()
            reply = self._reply_after_broken_transfer()
            if reply is not None:
                raise self._reply_error(reply, f"{reply} (data connection: {exc!r})") from exc
            raise
        finally:
            ftp.data_socket = None
            conn.close()
        ftp.voidresp()

    def _reply_after_broken_transfer(self) -> str | None:
        ftp = self.ftp
        if ftp.sock is None:
            return None
        try:
            ftp.sock.settimeout(min(self.endpoint.timeout, 5.0))
            ftp.getresp()
        except ftplib.Error as exc:  # 4xx/5xx: the reason we want
            return str(exc)
        except Exception:  # the control connection is gone as well
            return None
        return None

    def _size(self, name: str) -> int:
        ftp = self.ftp
        try:
            size = ftp.size(name)
            if size is not None:
                return int(size)
        except ftplib.error_perm as exc:
            if str(exc)[:3] not in ("500", "502", "504"):
                raise
        # SIZE unsupported: the MLST facts give the size too ("size=123;type=file; name").
        for line in ftp.sendcmd(f"MLST {name}").splitlines():
            for fact in line.strip().split(";"):
                key, _, value = fact.partition("=")
                if key.lower() == "size":
                    return int(value)
        raise ftplib.error_proto(f"the server reports no size for {name}")  # noqa: S321

    def _rename(self, source: str, target: str, overwrite: bool) -> None:
        ftp = self.ftp
        if not overwrite and self._exists(target):
            raise self._error(ErrorKind.REMOTE_EXISTS, name=target)
        try:
            ftp.rename(source, target)
            return
        except ftplib.error_perm as exc:
            if not self._exists(target):
                raise
            if not overwrite:
                raise self._error(ErrorKind.REMOTE_EXISTS, str(exc), name=target) from exc
        ftp.delete(target)
        ftp.rename(source, target)

    def _remove(self, name: str) -> None:
        self.ftp.delete(name)

    # -- errors --------------------------------------------------------------------------

    def _translate(self, exc: Exception) -> DeliveryError | None:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return self._certificate_refused(exc)
        error = network_error(exc, **self._context())
        if error is not None:
            return error
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ssl.SSLError):
            reason = exc.reason or str(exc)
            if exc.reason == "WRONG_VERSION_NUMBER":
                reason = "the server did not answer with TLS; check explicit/implicit and the port"
            return self._error(ErrorKind.TLS, detail, reason=reason)
        if isinstance(exc, ftplib.Error):
            return self._reply_error(str(exc), detail)
        if isinstance(exc, OSError | EOFError):
            return self._error(ErrorKind.CONNECTION_LOST, detail, reason=str(exc))
        return None

    def _reply_error(self, reply: str, detail: str) -> DeliveryError:
        code = reply[:3]
        if code == "530":
            return self._error(ErrorKind.AUTH, detail)
        if code in ("452", "552") or (code == "451" and "writ" in reply.lower()):
            # vsftpd answers a failed write to disk (full, over quota) with 451.
            return self._error(ErrorKind.DISK_FULL, detail, name="the file")
        if code in ("550", "553"):
            return self._error(ErrorKind.PERMISSION, detail)
        if code in ("425", "426"):
            return self._error(ErrorKind.CONNECTION_LOST, detail, reason=reply)
        if code in ("522", "534", "536"):
            return self._error(ErrorKind.TLS, detail, reason=reply)
        if code.startswith("4"):
            return self._error(ErrorKind.SERVER_ERROR, detail, reason=reply)
        return self._error(ErrorKind.PROTOCOL, detail, reason=reply)
