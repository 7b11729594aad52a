"""The webhook sender against real local sockets: pinned to the checked address, one deadline, a byte cap, and
failures reported as generic words only."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from core.netguard import IPAddress, check_webhook_target, set_resolver
from providers.webhook_sender import ERRORS, MAX_RETRY_AFTER, retry_after_seconds, send

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
Handler = Callable[[socket.socket, bytes], None]


class Server:
    """A TCP server on 127.0.0.1 that records each request's head and answers with ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.requests.append(data)
            try:
                self.handler(conn, data)
            except OSError:
                pass  # the client went away: what a deadline or a byte cap does

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


@contextmanager
def serving(handler: Handler) -> Iterator[Server]:
    server = Server(handler)
    try:
        yield server
    finally:
        server.close()


def answer(status: str, headers: str = "") -> Handler:
    def handle(conn: socket.socket, _: bytes) -> None:
        conn.sendall(f"HTTP/1.1 {status}\r\n{headers}content-length: 0\r\n\r\n".encode())
    return handle


@pytest.fixture
def dns() -> Iterator[dict[str, list[list[str]]]]:
    """The resolver seam: each name answers its next list of addresses (the last one repeats); calls are counted."""
    table: dict[str, list[list[str]]] = {}
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        answers = table[host]
        current = answers.pop(0) if len(answers) > 1 else answers[0]
        return [ipaddress.ip_address(a) for a in current]

    previous = set_resolver(resolve)
    table["__calls__"] = calls  # type: ignore[assignment]
    yield table
    set_resolver(previous)


def post(url: str, *, allow_private: bool = True, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    return send(url, {"request_id": "r1", "status": "COMPLETED"}, "msg_1", secret=SECRET, timeout=timeout,
                allow_private=allow_private)


def test_connects_to_the_resolved_address_with_the_url_host_in_the_host_header(dns: dict) -> None:  # type: ignore[type-arg]
    with serving(answer("204 No Content")) as server:
        dns["hooks.example.test"] = [["127.0.0.1"]]  # a name the system resolver does not know
        attempt = post(f"http://hooks.example.test:{server.port}/cb?x=1")
    assert attempt.outcome == "delivered"
    head = server.requests[0].decode()
    assert head.startswith("POST /cb?x=1 HTTP/1.1")
    assert f"host: hooks.example.test:{server.port}" in head.lower()
    assert dns["__calls__"] == ["hooks.example.test"]  # resolved once, by the guard; httpx never resolved it


def test_rebinding_to_loopback_after_create_is_never_contacted(dns: dict) -> None:  # type: ignore[type-arg]
    with serving(answer("200 OK")) as server:
        url = f"http://rebind.example.test:{server.port}/cb"
        dns["rebind.example.test"] = [["93.184.215.14"], ["127.0.0.1"]]  # public at create, loopback afterwards
        check_webhook_target(url, allow_private=False)  # what POST /create_narrative does
        attempts = [post(url, allow_private=False) for _ in range(3)]
    assert [a.outcome for a in attempts] == ["give_up"] * 3
    assert {a.error for a in attempts} == {"unreachable"}
    assert server.requests == []  # the receiver on 127.0.0.1 saw nothing


def test_redirects_are_not_followed() -> None:
    with serving(answer("204 No Content")) as target, \
            serving(answer("307 Temporary Redirect", f"location: http://127.0.0.1:{target.port}/x\r\n")) as hop:
        attempt = post(f"http://127.0.0.1:{hop.port}/cb")
    assert (attempt.outcome, attempt.error) == ("give_up", "http 4xx")
    assert target.requests == []


def trickle_head(conn: socket.socket, _: bytes) -> None:
    """A status line one byte at a time, each within any per-read timeout, never finishing."""
    stop = threading.Event()
    for byte in b"HTTP/1.1 200 OK\r\nx-slow: " + b"a" * 100_000:
        conn.send(bytes([byte]))
        if stop.wait(0.05):
            return


def endless_body(conn: socket.socket, _: bytes) -> None:
    """Headers at once, then a body that never ends."""
    conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"x" * 4096
    while True:
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def test_a_trickling_receiver_ends_at_the_overall_deadline() -> None:
    with serving(trickle_head) as server:
        attempt = post(f"http://127.0.0.1:{server.port}/cb", timeout=1.0)
    assert (attempt.outcome, attempt.error) == ("retry", "timeout")


def test_an_endless_body_is_read_only_up_to_the_cap() -> None:
    with serving(endless_body) as server:
        attempt = post(f"http://127.0.0.1:{server.port}/cb", timeout=60.0)
    assert attempt.outcome == "delivered"  # stopped reading at 64 KiB instead of waiting for an end that never comes
    assert attempt.status_code == 200


def test_failures_are_generic_words() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nobody listens here
    with serving(answer("503 Service Unavailable", "retry-after: 999999999\r\n")) as busy, \
            serving(answer("404 Not Found")) as missing, serving(answer("429 Too Many Requests")) as limited:
        refused = post(f"http://127.0.0.1:{closed}/cb")
        unavailable = post(f"http://127.0.0.1:{busy.port}/cb")
        not_found = post(f"http://127.0.0.1:{missing.port}/cb")
        too_many = post(f"http://127.0.0.1:{limited.port}/cb")
    assert (refused.outcome, refused.error) == ("retry", "unreachable")
    assert (unavailable.outcome, unavailable.error) == ("retry", "http 5xx")
    assert unavailable.retry_after == MAX_RETRY_AFTER  # honoured up to one hour, never 31 years
    assert (not_found.outcome, not_found.error) == ("give_up", "http 4xx")
    assert (too_many.outcome, too_many.error) == ("retry", "http 4xx")
    assert {a.error for a in (refused, unavailable, not_found, too_many)} <= set(ERRORS)


def test_retry_after_forms_are_capped_at_one_hour() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("999999999") == 3600
    assert retry_after_seconds("Wed, 21 Oct 2099 07:28:00 GMT", now=0) == 3600
    assert retry_after_seconds("soon") is None
