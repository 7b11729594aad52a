"""A caller's file host for ``music.url``: a real HTTP server on 127.0.0.1 serving whatever a test puts on it.

Each path answers with a status, a content type and a body (or a redirect); every GET is counted, so a test can
prove that a cached rerun fetched nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Served:
    body: bytes = b""
    content_type: str = "audio/wav"
    status: int = 200
    location: str = ""


class TrackServer:
    """Files by path; unknown paths are 404."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.calls: Counter[str] = Counter()
        self.url = ""

    def put(self, path: str, served: Served) -> str:
        self.files[path] = served
        return f"{self.url}{path}"

    def __call__(self, environ: dict[str, object], start_response: object) -> object:
        request = Request(environ)
        self.calls[request.path] += 1
        served = self.files.get(request.path)
        if served is None:
            response = Response(b"not found", status=404, content_type="text/plain")
        elif served.location:
            response = Response(b"", status=served.status, headers={"Location": served.location})
        else:
            response = Response(served.body, status=served.status, content_type=served.content_type)
        return response(environ, start_response)  # type: ignore[arg-type]


@contextmanager
def track_server() -> Iterator[TrackServer]:
    app = TrackServer()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(timeout=5)
