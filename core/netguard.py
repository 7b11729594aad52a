"""The SSRF guard for caller-chosen URLs: only public http(s) destinations, checked at create and again at use.

Two places make our server send requests to an address of a caller's choosing: webhook URLs (checked at create
and at every delivery) and the caller's own music track (``music.url``, checked when it is fetched). Hosts that
resolve to loopback, private, link-local (cloud metadata at 169.254.169.254), multicast, reserved or
unspecified addresses are refused — unless the operator allows private targets (``REELFLOW_WEBHOOK_ALLOW_PRIVATE``),
as tests and intranet setups do. DNS is resolved every time: a name that was public at create may not be at delivery.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import InvalidRequest


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _blocked(address.ipv4_mapped)
    return (
        address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified or not address.is_global
    )


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str, port: int, field: str = "webhookUrl") -> list[Address]:
    """Every address the host resolves to (a literal IP resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidRequest(f"{field}: host '{host}' cannot be resolved") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_public_target(url: str, *, allow_private: bool, field: str, rule: str) -> list[Address]:
    """Raise :class:`InvalidRequest` (naming ``field``) unless ``url`` is http(s) and every address of its host is
    public; return those addresses (empty when private targets are allowed: nothing was resolved), so a caller can
    connect to exactly the address that passed (DNS may answer differently a moment later)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"{field}: must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidRequest(f"{field}: must not carry credentials")
    if allow_private:
        return []
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname, port, field)
    for address in addresses:
        if _blocked(address):
            raise InvalidRequest(
                f"{field}: {parts.hostname} resolves to {address}, a loopback, private, link-local, multicast or "
                f"reserved address; {rule}"
            )
    return addresses


def check_webhook_target(url: str, *, allow_private: bool) -> None:
    """Raise :class:`InvalidRequest` unless ``url`` is http(s) and every address of its host is public."""
    check_public_target(url, allow_private=allow_private, field="webhookUrl",
                        rule="webhooks only go to public addresses")
