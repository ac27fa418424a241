"""Issue 17, item 20: keyboard-interactive gets the password for a password prompt, once.

A real SSH server (paramiko's ``ServerInterface`` on a 127.0.0.1 socket) offers only
keyboard-interactive, asks its prompts round by round and records every answer.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import paramiko
import pytest
from paramiko.common import AUTH_FAILED, AUTH_SUCCESSFUL

from delivery.transports.sftp_auth import authenticate

pytestmark = pytest.mark.nodb

PASSWORD = "the-stored-password"
OTP = "246810"


class InteractiveServer(paramiko.ServerInterface):
    """Asks ``rounds`` of prompts; succeeds when the answers equal ``expected``."""

    def __init__(self, rounds: list[list[str]], expected: list[list[str]]) -> None:
        self.rounds = rounds
        self.expected = expected
        self.answers: list[list[str]] = []

    def get_allowed_auths(self, username: str) -> str:
        return "keyboard-interactive"

    def _query(self, index: int) -> paramiko.InteractiveQuery:
        return paramiko.InteractiveQuery("", "", *[(p, False) for p in self.rounds[index]])

    def check_auth_interactive(self, username: str, submethods: str) -> Any:
        return self._query(0)

    def check_auth_interactive_response(self, responses: list[str]) -> Any:
        self.answers.append(list(responses))
        if len(self.answers) < len(self.rounds):
            return self._query(len(self.answers))
        return AUTH_SUCCESSFUL if self.answers == self.expected else AUTH_FAILED


@pytest.fixture
def serve() -> Iterator[Any]:
    threads: list[tuple[threading.Thread, socket.socket, list[Any]]] = []

    def start(server: InteractiveServer) -> tuple[str, int]:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        transports: list[Any] = []

        def run() -> None:
            conn, _ = listener.accept()
            transport = paramiko.Transport(conn)
            transports.append(transport)
            transport.add_server_key(_host_key())
            transport.start_server(server=server)  # authentication runs in its thread

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append((thread, listener, transports))
        return listener.getsockname()

    yield start
    for thread, listener, transports in threads:
        for transport in transports:
            transport.close()
        listener.close()
        thread.join(10)


_KEY: list[paramiko.PKey] = []


def _host_key() -> paramiko.PKey:
    if not _KEY:
        import io

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        _KEY.append(paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode())))
    return _KEY[0]


def _login(address: tuple[str, int]) -> tuple[paramiko.Transport, list[str]]:
    client = paramiko.Transport(socket.create_connection(address))
    client.start_client(timeout=10)
    endpoint = SimpleNamespace(
        username="loyalty", password=PASSWORD, private_key=None, private_key_passphrase=None
    )
    return client, authenticate(client, endpoint)


def test_password_prompt_is_answered_and_the_otp_prompt_is_not(serve: Any) -> None:
    server = InteractiveServer(
        rounds=[["Password: "], ["Verification code: "]], expected=[[PASSWORD], [OTP]]
    )
    client, failures = _login(serve(server))
    try:
        assert not client.is_authenticated()
        assert server.answers == [[PASSWORD], [""]]
        assert any("Verification code" in f for f in failures)
    finally:
        client.close()


def test_a_new_password_prompt_never_gets_the_stored_password(serve: Any) -> None:
    server = InteractiveServer(
        rounds=[["Password: "], ["New password: ", "Retype new password: "]],
        expected=[[PASSWORD], [PASSWORD, PASSWORD]],
    )
    client, _ = _login(serve(server))
    try:
        assert not client.is_authenticated()
        assert server.answers == [[PASSWORD], ["", ""]]
    finally:
        client.close()


def test_the_password_is_given_once_only(serve: Any) -> None:
    server = InteractiveServer(
        rounds=[["Password: "], ["Password: "]], expected=[[PASSWORD], [PASSWORD]]
    )
    client, _ = _login(serve(server))
    try:
        assert server.answers == [[PASSWORD], [""]]
    finally:
        client.close()


def test_a_plain_password_prompt_logs_in(serve: Any) -> None:
    server = InteractiveServer(rounds=[["Password for loyalty@host: "]], expected=[[PASSWORD]])
    client, failures = _login(serve(server))
    try:
        assert client.is_authenticated(), failures
    finally:
        client.close()
