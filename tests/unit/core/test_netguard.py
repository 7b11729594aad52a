"""Webhook targets: public addresses only, unless the operator allows private ones."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from core.errors import InvalidRequest
from core.netguard import blocked, check_webhook_target, set_resolver


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://172.16.0.9/x",
    "http://192.168.1.1/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://0.0.0.0/x",
    "http://224.0.0.1/x", "http://[fe80::1]/x", "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x",
])
def test_private_targets_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest, match="webhooks only go to public addresses"):
        check_webhook_target(url, allow_private=False)


def test_private_targets_are_allowed_when_configured() -> None:
    check_webhook_target("http://127.0.0.1:9/hook", allow_private=True)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://8.8.8.8/x", "must be an absolute http"), ("http:///nohost", "must be an absolute http"),
    ("http://user:pw@8.8.8.8/x", "must not carry credentials"),
    ("http://no-such-host.invalid/x", "cannot be resolved"),
])
def test_malformed_targets(url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        check_webhook_target(url, allow_private=False)


def test_public_literal_address_passes() -> None:
    check_webhook_target("https://8.8.8.8/hook", allow_private=False)


# Every range of the explicit deny list, with the address that shows it (RFC 6890 and the IANA registries).
DENIED = [
    ("loopback v4", "127.0.0.1"), ("loopback v4 far end", "127.255.255.254"), ("loopback v6", "::1"),
    ("private 10/8", "10.0.0.1"), ("private 172.16/12", "172.31.255.1"), ("private 192.168/16", "192.168.0.1"),
    ("link-local v4 (metadata)", "169.254.169.254"), ("link-local v6", "fe80::1"),
    ("CGNAT 100.64/10", "100.64.0.1"), ("CGNAT far end", "100.127.255.254"),
    ("multicast v4", "224.0.0.1"), ("multicast v6", "ff02::1"),
    ("reserved 240/4", "240.0.0.1"), ("broadcast", "255.255.255.255"),
    ("unspecified v4", "0.0.0.0"), ("this network 0/8", "0.1.2.3"), ("unspecified v6", "::"),
    ("IETF 192.0.0/24", "192.0.0.8"), ("benchmarking 198.18/15", "198.19.0.1"), ("6to4 relay", "192.88.99.1"),
    ("documentation TEST-NET-1", "192.0.2.1"), ("documentation TEST-NET-2", "198.51.100.7"),
    ("documentation TEST-NET-3", "203.0.113.9"), ("documentation v6", "2001:db8::1"),
    ("documentation 3fff::/20", "3fff::1"),
    ("6to4 of a public v4", "2002:808:808::1"), ("6to4 of loopback", "2002:7f00:1::1"),
    ("Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2"), ("ORCHIDv2", "2001:20::1"),
    ("NAT64 of loopback", "64:ff9b::7f00:1"), ("NAT64 of private", "64:ff9b::a00:1"),
    ("NAT64 of metadata", "64:ff9b::a9fe:a9fe"), ("local-use NAT64", "64:ff9b:1::808:808"),
    ("IPv4-mapped loopback", "::ffff:127.0.0.1"), ("IPv4-mapped private", "::ffff:10.0.0.1"),
    ("IPv4-mapped public (a v6 socket would still reach v4)", "::ffff:8.8.8.8"),
    ("IPv4-compatible", "::127.0.0.1"), ("site-local fec0::/10", "fec0::1"), ("site-local far end", "feff::1"),
    ("unique local fc00::/7", "fd12:3456::1"), ("discard 100::/64", "100::1"),
]
ALLOWED = [("public v4", "8.8.8.8"), ("public v4 next to CGNAT", "100.128.0.1"), ("public v6", "2606:4700::1111"),
           ("public v6 next to Teredo", "2001:4860:4860::8888"), ("NAT64 of a public v4", "64:ff9b::808:808")]


@pytest.mark.parametrize(("why", "address"), DENIED, ids=[why for why, _ in DENIED])
def test_deny_list(why: str, address: str) -> None:
    assert blocked(ipaddress.ip_address(address)), why


@pytest.mark.parametrize(("why", "address"), ALLOWED, ids=[why for why, _ in ALLOWED])
def test_public_addresses_pass(why: str, address: str) -> None:
    assert not blocked(ipaddress.ip_address(address)), why


@pytest.fixture
def fake_dns() -> Iterator[dict[str, list[str]]]:
    """A resolver seam: names map to the addresses the test chooses; the system resolver is restored after."""
    table: dict[str, list[str]] = {}
    previous = set_resolver(lambda host, port: [ipaddress.ip_address(a) for a in table[host]])
    yield table
    set_resolver(previous)


def test_check_returns_the_addresses_to_pin(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["hooks.example.test"] = ["8.8.8.8", "2606:4700::1111"]
    target = check_webhook_target("https://hooks.example.test/cb?x=1", allow_private=False)
    assert target.addresses == (ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("2606:4700::1111"))
    assert (target.host, target.port, target.scheme) == ("hooks.example.test", 443, "https")


def test_one_private_address_among_public_ones_is_refused(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["mixed.example.test"] = ["8.8.8.8", "127.0.0.1"]
    with pytest.raises(InvalidRequest, match="resolves to 127.0.0.1"):
        check_webhook_target("http://mixed.example.test/cb", allow_private=False)
