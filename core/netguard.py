"""The SSRF guard for caller-chosen URLs: only public http(s) destinations, resolved once per use and pinned.

Two places make our server send requests to an address of a caller's choosing: webhook URLs (checked at create
and at every delivery attempt) and the caller's own music track (``music.url``, checked when it is fetched). The
guard resolves the host **once**, checks every address against an explicit deny list and hands back the addresses
that passed; the sender then connects to exactly those addresses (see ``providers.webhook_sender``). Resolving
again inside the HTTP client would let a TTL-0 name answer a public address to the check and 127.0.0.1 to the
connect (DNS rebinding), so nothing downstream resolves the name again.

The deny list is explicit rather than ``not ip.is_global`` alone: Python's ``is_global`` lets 6to4 (``2002::/16``),
site-local (``fec0::/10``) and NAT64 through, and tunnelled forms carry an IPv4 address that must pass the IPv4
list too (IPv4-mapped, IPv4-compatible, NAT64, 6to4). ``is_global`` stays as a second net for what the list
misses. The operator may allow private targets (``REELFLOW_WEBHOOK_ALLOW_PRIVATE``), as tests and intranet setups
do; the sender still pins the address it resolved.

:func:`set_resolver` is the seam for a different resolver (unit tests use it to model a rebinding DNS name); the
default is the system's ``getaddrinfo``. The stack's processes are out of a test's reach, so a drill scripts a
name's answers through ``REELFLOW_INJECT_FAULTS`` instead (``dns:host=a1/a2``, see ``core.faults``); such a name
stands for a public one, so its answers are always checked, private targets allowed or not.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from core import faults
from core.errors import InvalidRequest
from core.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Address = IPAddress
Resolver = Callable[[str, int], list[IPAddress]]

DENIED_V4 = tuple(ipaddress.IPv4Network(net) for net in (
    "0.0.0.0/8",  # "this network", unspecified
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local, cloud metadata
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
))
DENIED_V6 = tuple(ipaddress.IPv6Network(net) for net in (
    "::/128", "::1/128",  # unspecified, loopback
    "::/96",  # IPv4-compatible (deprecated)
    "::ffff:0:0/96",  # IPv4-mapped (its IPv4 part is checked too)
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard
    "2001::/23",  # IETF protocol assignments, Teredo 2001::/32 among them
    "2001:db8::/32", "3fff::/20",  # documentation
    "2002::/16",  # 6to4
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated, still routed by some stacks)
    "ff00::/8",  # multicast
))
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form tunnels to (mapped, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def blocked(address: IPAddress) -> bool:
    """True when ``address`` is not a public unicast destination."""
    if isinstance(address, ipaddress.IPv4Address):
        return any(address in net for net in DENIED_V4) or not address.is_global
    inner = _embedded_v4(address)
    if inner is not None and blocked(inner):
        return True
    if address in NAT64:  # a NAT64 form of a public IPv4 address is that address
        return False
    return any(address in net for net in DENIED_V6) or not address.is_global


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address ``getaddrinfo`` gives for the host, in its order (a literal IP resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[IPAddress, None] = {}
    for info in infos:
        seen[ipaddress.ip_address(str(info[4][0]).split("%")[0])] = None
    return list(seen)


_resolver: Resolver = system_resolver


def set_resolver(resolver: Resolver) -> Resolver:
    """Use ``resolver`` for every later check; returns the previous one (tests restore it)."""
    global _resolver
    previous, _resolver = _resolver, resolver
    return previous


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the addresses that passed the guard: connect to these, nowhere else."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def resolve(host: str, port: int, field: str = "webhookUrl") -> list[IPAddress]:
    """Every address the host resolves to, through the configured resolver."""
    try:
        addresses = _resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise InvalidRequest(f"{field}: host '{host}' cannot be resolved") from exc
    if not addresses:
        raise InvalidRequest(f"{field}: host '{host}' cannot be resolved")
    return addresses


def _scripted(host: str) -> IPAddress | None:
    """The fault-injection DNS script's answer for ``host`` (None when it does not script the name)."""
    settings = get_settings()
    if not settings.inject_faults:
        return None
    return faults.scripted_answer(settings.inject_faults, settings.data_dir, host)


def check_target(url: str, *, allow_private: bool, field: str, rule: str) -> Target:
    """Resolve ``url``'s host once; raise :class:`InvalidRequest` (naming ``field``, ending with ``rule``) unless it
    is http(s) and every address is public. Returns the :class:`Target` to pin the connection to; with
    ``allow_private`` the addresses are not checked (except a scripted name's) but still returned, so the
    connection is pinned all the same.
    """
    _syntax(url, field)
    parts = urlsplit(url)
    assert parts.hostname is not None  # _syntax checked it
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidRequest(f"{field}: the port is not valid") from exc
    scripted = _scripted(parts.hostname)
    addresses = [scripted] if scripted is not None else resolve(parts.hostname, port, field)
    if not allow_private or scripted is not None:
        for address in addresses:
            if blocked(address):
                raise InvalidRequest(
                    f"{field}: {parts.hostname} resolves to {address}, a loopback, private, link-local, multicast "
                    f"or reserved address; {rule}"
                )
    return Target(url, parts.scheme, parts.hostname, port, tuple(addresses))


def check_public_target(url: str, *, allow_private: bool, field: str, rule: str) -> list[Address]:
    """The addresses of ``url`` that passed the guard, to connect to exactly those; empty when private targets are
    allowed (nothing is resolved then, the caller connects by name)."""
    if allow_private:
        _syntax(url, field)
        return []
    return list(check_target(url, allow_private=False, field=field, rule=rule).addresses)


def _syntax(url: str, field: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"{field}: must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidRequest(f"{field}: must not carry credentials")


def check_webhook_target(url: str, *, allow_private: bool) -> Target:
    """The webhook guard: :func:`check_target` for ``webhookUrl``."""
    return check_target(url, allow_private=allow_private, field="webhookUrl",
                        rule="webhooks only go to public addresses")
