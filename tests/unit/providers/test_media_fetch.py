"""The caller-media fetcher through a real httpx client on a mock transport: caps, statuses and the SSRF guard."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest

from core import netguard
from core.errors import FatalProviderError, RetryableProviderError
from providers.media_fetch import fetch

URL = "http://media.example.test/a.png"


@pytest.fixture(autouse=True)
def media_host_resolves() -> Iterator[None]:
    """The test host name resolves to a documentation address (through the guard's resolver seam, as DNS would)."""
    def resolver(host: str, port: int) -> list[netguard.IPAddress]:
        return [ipaddress.ip_address("192.0.2.7")] if host == "media.example.test" else netguard.system_resolver(
            host, port)

    previous = netguard.set_resolver(resolver)
    yield
    netguard.set_resolver(previous)


def client(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(transport=handler, follow_redirects=False)


def get(handler: httpx.MockTransport, max_bytes: int = 1000, url: str = URL, allow_private: bool = True) -> bytes:
    return fetch(url, field="image_url", max_bytes=max_bytes, timeout=5, allow_private=allow_private,
                 client=client(handler)).data


def test_a_small_file_comes_back_with_its_type() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"png!", headers={
        "content-type": "image/PNG; charset=binary"}))
    got = fetch(URL, field="image_url", max_bytes=10, timeout=5, allow_private=True, client=client(transport))
    assert got.data == b"png!"
    assert got.content_type == "image/png"


def test_a_declared_size_over_the_cap_is_refused_before_reading() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 2000))
    with pytest.raises(FatalProviderError) as caught:
        get(transport)
    assert "image_url: the file is larger than" in str(caught.value)
    assert "REELFLOW_MAX_MEDIA_MB" in str(caught.value)


def test_an_undeclared_stream_is_cut_at_the_cap() -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x" * 256

    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=endless()))
    with pytest.raises(FatalProviderError, match="larger than"):
        get(transport)


@pytest.mark.parametrize(("status", "error"), [(404, FatalProviderError), (302, FatalProviderError),
                                               (429, RetryableProviderError), (503, RetryableProviderError)])
def test_statuses(status: int, error: type[Exception]) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, headers={"location": "http://10.0.0.1/"}))
    with pytest.raises(error, match=f"answered {status}"):
        get(transport)


def test_connection_errors_may_be_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RetryableProviderError, match="could not download"):
        get(httpx.MockTransport(refuse))


def test_private_addresses_are_refused_with_the_field_named() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"never"))
    with pytest.raises(FatalProviderError) as caught:
        get(transport, url="http://127.0.0.1:9/a.png", allow_private=False)
    assert str(caught.value).startswith("image_url: 127.0.0.1 resolves to 127.0.0.1")
    assert "media is only fetched from public addresses" in str(caught.value)
