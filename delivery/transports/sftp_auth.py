"""SFTP login: private keys as users paste them, password, keyboard-interactive.

Keys come as text from the settings page (OpenSSH or PEM; Ed25519, ECDSA or RSA; with
or without passphrase); a key that cannot be used is a ``bad_key`` error that says why,
before any connection is made to log in with it. With both a key and a password, the key
is tried first. Servers with PAM often offer the password prompt only as
keyboard-interactive; the password is given there too, to a password prompt only, once
(never to a one-time-code or "new password" prompt).
"""

from __future__ import annotations

import io
import re
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from delivery.errors import DeliveryError, ErrorKind, make_error


def load_private_key(text: str, passphrase: str | None) -> paramiko.PKey:
    """A paramiko key from OpenSSH or PEM text, or a ``bad_key`` error saying why not."""
    data = text.strip().encode() + b"\n"
    password = passphrase.encode() if passphrase else None

    def bad(reason: str, detail: str = "") -> DeliveryError:
        return make_error(ErrorKind.BAD_KEY, detail, reason=reason)

    try:
        try:
            loaded: Any = serialization.load_ssh_private_key(data, password=password)
        except ValueError as first:
            if b"OPENSSH PRIVATE KEY" in data:
                raise first
            loaded = serialization.load_pem_private_key(data, password=password)
    except TypeError as exc:
        # cryptography: a passphrase is missing, or given for a key that has none.
        if passphrase:
            raise bad("a passphrase was given but the key is not encrypted", str(exc)) from None
        raise bad("the key is protected by a passphrase; enter it", str(exc)) from None
    except ValueError as exc:
        reason = "wrong passphrase" if passphrase else "not an OpenSSH or PEM private key"
        raise bad(reason, str(exc)) from None
    except Exception as exc:  # unsupported algorithms and similar
        raise bad("the key could not be read", repr(exc)) from None
    key_class: type[paramiko.PKey]
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise bad(f"{type(loaded).__name__} keys are not supported; use Ed25519, ECDSA or RSA")
    try:
        return key_class.from_private_key(io.StringIO(data.decode()), password=passphrase)
    except Exception as exc:
        raise bad("the key could not be read", repr(exc)) from None


def authenticate(ssh: paramiko.Transport, endpoint: Any) -> list[str]:
    """Log in with the endpoint's key and/or password; return why attempts failed."""
    failures: list[str] = []
    if endpoint.private_key:
        key = load_private_key(endpoint.private_key, endpoint.private_key_passphrase)
        try:
            ssh.auth_publickey(endpoint.username, key)
        except paramiko.BadAuthenticationType as exc:
            failures.append(f"public key not accepted (server allows {exc.allowed_types})")
        except paramiko.AuthenticationException as exc:
            failures.append(f"public key rejected: {exc}")
    if not ssh.is_authenticated() and endpoint.password is not None:
        _password_login(ssh, endpoint.username, endpoint.password, failures)
    return failures


def _password_login(
    ssh: paramiko.Transport, username: str, password: str, failures: list[str]
) -> None:
    try:
        # fallback=False: paramiko's own fallback answers every single prompt of a
        # keyboard-interactive round with the password (an OTP prompt included).
        ssh.auth_password(username, password, fallback=False)
        return
    except paramiko.BadAuthenticationType as exc:
        allowed = exc.allowed_types
        if "keyboard-interactive" not in allowed:
            failures.append(f"password login not offered (server allows {allowed})")
            return
    except paramiko.AuthenticationException as exc:
        failures.append(f"password rejected: {exc}")
        return
    answer = PasswordPrompts(password)
    try:
        ssh.auth_interactive(username, answer)
    except paramiko.AuthenticationException as exc:
        unanswered = f" (not answered: {', '.join(answer.refused)})" if answer.refused else ""
        failures.append(f"keyboard-interactive rejected: {exc}{unanswered}")


# Prompts that ask for something else than the current password, although some say
# "password": a second factor, or a forced change of password.
_NOT_THE_PASSWORD = re.compile(
    r"new|again|retype|re-enter|confirm|verif|one[- ]time|otp|token|code|passcode|pin\b",
    re.IGNORECASE,
)


class PasswordPrompts:
    """Keyboard-interactive answers: the stored password to one password prompt, once.

    Every other prompt (a one-time code, "New password", "Retype new password") gets an
    empty answer: the stored password must never be sent as an OTP, nor set as a "new"
    password, nor offered again to a server that asked for it once already.
    """

    def __init__(self, password: str) -> None:
        self.password = password
        self.given = False
        self.refused: list[str] = []

    def __call__(
        self, _title: str, _instructions: str, prompts: list[tuple[str, bool]]
    ) -> list[str]:
        answers = []
        for prompt, _echo in prompts:
            text = str(prompt).strip()
            if not self.given and "password" in text.lower() and not _NOT_THE_PASSWORD.search(text):
                self.given = True
                answers.append(self.password)
            else:
                self.refused.append(repr(text[:60]))
                answers.append("")
        return answers
