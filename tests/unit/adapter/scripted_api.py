"""A real HTTP server that answers the documented reelflow bodies from a script and records every request.

Not pytest-httpserver: werkzeug's server drops headers whose names contain ``_`` (as nginx does), and the seed's
auth header is ``API_KEY``, so a test could not see which key arrived. ``http.server`` keeps headers as sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class ScriptedApi:
    """``script[path]`` is a list of (status, body) answered in order; the last one repeats. bytes → raw MP4."""

    script: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, *answers: tuple[int, Any]) -> None:
        self.script[path] = list(answers)


def _handler(api: ScriptedApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length", 0) or 0))
            api.seen.append(Seen(self.command, parts.path, dict(parse_qsl(parts.query)),
                                 {k.lower(): v for k, v in self.headers.items()}, body))
            answers = api.script.get(parts.path) or [(404, {"message": "Not Found"})]
            status, content = answers.pop(0) if len(answers) > 1 else answers[0]
            data = content if isinstance(content, bytes) else json.dumps(content).encode()
            self.send_response(status)
            self.send_header("content-type", "video/mp4" if isinstance(content, bytes) else "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve  # noqa: N815 - http.server's naming

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def scripted_api() -> Iterator[ScriptedApi]:
    api = ScriptedApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
