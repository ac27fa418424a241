"""Where to deliver: the plain values a transport needs, and nothing from the database.

The web app builds an :class:`Endpoint` from a destination row (decrypting the secrets
just before use) and hands it to :func:`delivery.transports.open_transport`. The
representation never shows a password or a key, so an endpoint can be logged.
"""

from __future__ import annotations

from dataclasses import dataclass

PROTOCOLS = ("sftp", "ftps_explicit", "ftps_implicit", "local")
DEFAULT_PORTS = {"sftp": 22, "ftps_explicit": 21, "ftps_implicit": 990, "local": 0}
SERVICES = {
    "sftp": "SFTP (SSH)",
    "ftps_explicit": "FTPS (explicit, AUTH TLS)",
    "ftps_implicit": "FTPS (implicit TLS)",
    "local": "local folder",
}


@dataclass(frozen=True)
class Endpoint:
    protocol: str  # "sftp" | "ftps_explicit" | "ftps_implicit" | "local"
    host: str
    port: int | None = None  # None: 22 / 21 / 990
    directory: str = ""  # remote directory ("" = login directory); "local": the folder
    username: str = ""
    password: str | None = None
    private_key: str | None = None  # OpenSSH or PEM private key text (SFTP)
    private_key_passphrase: str | None = None
    host_key_fingerprint: str | None = None  # pinned "SHA256:..." (SFTP); None = not pinned
    tls_fingerprint: str | None = None  # pinned certificate SHA-256 hex (FTPS); None = CAs
    timeout: float = 10.0
    # The pinned key's type ("ssh-ed25519", ...). Optional; when set, SFTP negotiates that
    # key type, so a server with several host keys always shows the pinned one.
    host_key_type: str | None = None
    # An IP address of ``host`` to connect to instead of resolving ``host`` again: the web
    # app's connection test resolves once, checks the address against its allow/deny list
    # and connects to exactly that address (no DNS rebinding in between). ``host`` still
    # names the server for TLS and in messages.
    connect_address: str | None = None

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"Unknown protocol {self.protocol!r}; use one of {PROTOCOLS}.")
        if self.port is not None and not 0 < self.port < 65536:
            raise ValueError("Port must be between 1 and 65535.")
        if self.timeout <= 0:
            raise ValueError("Timeout must be positive.")

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.protocol]

    @property
    def address(self) -> tuple[str, int]:
        """Where the TCP connection goes."""
        return (self.connect_address or self.host, self.effective_port)

    @property
    def service(self) -> str:
        return SERVICES[self.protocol]

    def __repr__(self) -> str:
        secrets = ", ".join(
            f"{name}=<set>"
            for name, value in (
                ("password", self.password),
                ("private_key", self.private_key),
                ("private_key_passphrase", self.private_key_passphrase),
            )
            if value
        )
        return (
            f"Endpoint({self.protocol}://{self.username}@{self.host}:{self.effective_port}"
            f"/{self.directory.lstrip('/')}"
            + (f", host_key={self.host_key_fingerprint}" if self.host_key_fingerprint else "")
            + (f", tls={self.tls_fingerprint}" if self.tls_fingerprint else "")
            + (f", {secrets}" if secrets else "")
            + ")"
        )

    __str__ = __repr__
