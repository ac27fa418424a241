"""Which addresses "Test connection" may reach: the configured allow and deny lists.

Without a fence the test is a port scanner and proxy into the network the app runs in
(this machine's own services, the cloud metadata service). The host is resolved once
here; every address it resolves to must pass, and the test then connects to the checked
address itself (``Endpoint.connect_address``), so a name cannot resolve to something
else between the check and the connection.

Rules: an address inside ``CONNECTION_TEST_DENY`` is refused unless it is inside
``CONNECTION_TEST_ALLOW``; when ``CONNECTION_TEST_ALLOW`` is not empty, an address
outside it is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from flask import current_app

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The host resolves to an address the policy does not allow (or to none at all)."""


def _networks(values: Iterable[str] | str) -> list[Network]:
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    return [ipaddress.ip_network(str(v).strip(), strict=False) for v in values]


def allowed(address: Address) -> bool:
    allow = _networks(current_app.config.get("CONNECTION_TEST_ALLOW") or [])
    deny = _networks(current_app.config.get("CONNECTION_TEST_DENY") or [])
    mapped = getattr(address, "ipv4_mapped", None)
    candidates = [address, mapped] if mapped is not None else [address]

    def inside(networks: list[Network]) -> bool:
        return any(a.version == n.version and a in n for a in candidates for n in networks)

    if allow and not inside(allow):
        return False
    return not (inside(deny) and not inside(allow))


def checked_address(host: str, port: int) -> str:
    """The address to connect to for ``host``; raises :class:`AddressRefused`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f'The server name "{host}" could not be found.') from exc
    addresses: list[Address] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses or not all(allowed(a) for a in addresses):
        raise AddressRefused(
            f"Connection tests to {host} are not allowed here (its address is on this "
            "installation's deny list). Ask your administrator if it should be reachable."
        )
    return str(addresses[0])
