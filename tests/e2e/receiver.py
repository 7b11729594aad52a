"""A real webhook receiver for tests: verifies Standard Webhooks signatures and answers from a script."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HOLD = 0  # script entry: hold the POST open without answering until ``release`` is set
STREAM = -1  # script entry: answer 200 at once, then trickle the body a byte at a time until the client hangs up
TRICKLE_PAUSE = 0.2  # seconds between the bytes of a streamed body (far below any per-read timeout)


@dataclass
class Delivery:
    headers: dict[str, str]
    payload: dict[str, Any]
    verified: bool
    answered: int  # HOLD: held open and never answered; STREAM: 200 headers and a body that never ends
    body: str = ""
    hung_up: threading.Event = field(default_factory=threading.Event)  # a streamed answer: the client went away


@dataclass
class Receiver:
    """Records every POST; answers the scripted status codes in order, then 200.

    A script entry of :data:`HOLD` holds that POST open without answering until ``release`` is set (a receiver that
    is slow while the sender dies); :data:`STREAM` answers 200 and then streams its body for ever, a byte at a time,
    until the client hangs up (recorded in ``Delivery.hung_up``) or ``release`` is set."""

    secret: str
    script: list[int] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    retry_after: str | None = None  # sent with every 429/503 answer when set
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self, request_id: str, status: str | None = None) -> list[Delivery]:
        """Verified deliveries answered 2xx for a request (optionally of one status)."""
        with self.lock:
            return [d for d in self.deliveries if d.verified and 200 <= d.answered < 300
                    and d.payload.get("request_id") == request_id and (status is None or d.payload["status"] == status)]

    def for_request(self, request_id: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.payload.get("request_id") == request_id]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(receiver.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                payload, verified = json.loads(body), False
            with receiver.lock:
                code = receiver.script.pop(0) if receiver.script and payload.get("status") != "IN_PROGRESS" else 200
                delivery = Delivery(headers, payload, verified, code, body)
                receiver.deliveries.append(delivery)
            if code == HOLD:
                receiver.release.wait(300)
                return
            if code == STREAM:
                self._stream(delivery)
                return
            self.send_response(code)
            if code in (429, 503) and receiver.retry_after is not None:
                self.send_header("retry-after", receiver.retry_after)
            self.end_headers()

        def _stream(self, delivery: Delivery) -> None:
            """200 with no length, then one byte per pause: every read gets data, the body never ends."""
            self.send_response(200)
            self.end_headers()
            try:
                while not receiver.release.wait(TRICKLE_PAUSE):
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except OSError:  # BrokenPipe / ConnectionReset: the sender gave up on the answer
                delivery.hung_up.set()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    """Serve the receiver on 127.0.0.1 (on ``receiver.port``, or a free port when 0) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
