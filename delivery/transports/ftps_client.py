"""``ftplib.FTP_TLS`` with TLS session reuse on data connections, and implicit TLS.

Python's ``FTP_TLS`` opens every data connection with a fresh TLS session. Servers that
protect against data-connection hijacking (vsftpd's default ``require_ssl_reuse=YES``,
FileZilla Server, ProFTPD without ``NoSessionReuseRequired``) refuse that with
"522 session reuse required". :class:`TLSSessionFTP` resumes the control connection's
session on each data connection instead, as FileZilla and curl do; it also takes over an
already connected socket, in explicit (AUTH TLS after the greeting) or implicit mode.
"""

from __future__ import annotations

import ftplib
import socket
import ssl


class TLSSessionFTP(ftplib.FTP_TLS):
    """``FTP_TLS`` that resumes the control connection's TLS session for data transfers."""

    def __init__(self, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(context=context, timeout=timeout)
        self.data_socket: socket.socket | None = None
        self.peer_checks: list[ssl.SSLSocket] = []

    def start(self, sock: socket.socket, host: str, port: int, implicit: bool) -> None:
        """Take over a connected socket: TLS at once (implicit) or after the greeting."""
        self.host, self.port = host, port
        self.af = sock.family
        self.sock = sock  # owned from here on: close() releases it whatever fails next
        if implicit:
            self.sock = self.context.wrap_socket(sock, server_hostname=host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        if not implicit:
            self.auth()

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321 - TLS is added below
        self.data_socket = conn
        if self._prot_p:  # type: ignore[attr-defined]
            try:
                session = self.sock.session if isinstance(self.sock, ssl.SSLSocket) else None
                conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
            except BaseException:
                conn.close()
                raise
            self.data_socket = conn
            assert isinstance(conn, ssl.SSLSocket)
            self.peer_checks.append(conn)
        return conn, size
