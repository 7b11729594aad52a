"""A vendor fake's chassis: a threaded werkzeug app on a free 127.0.0.1 port with knobs and call counters.

Each vendor module (``openai_fake``, ``replicate_fake``, ...) adds its routes and speaks that vendor's wire protocol;
the chassis gives them the same knobs: ``latency`` per job kind, ``fail_ratio`` (injected 5xx, at most two in a row
per path so a bounded number of retries always gets through), ``status`` (answer every API call with that error,
e.g. 401; 429 and 503 carry ``Retry-After: 7``), ``stall`` (seconds before any API answer, for timeouts),
``content_policy`` (the vendor's safety refusal), and ``calls`` counted per "METHOD path".
Request bodies are checked field by field; a broken rule is answered like the vendor would (400/422) and recorded in
``problems``, which every test expects to stay empty.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

Handler = Callable[[Request, re.Match[str]], Response]


class FakeServer:
    """Routes by method and path pattern; subclasses register handlers and shape errors like their vendor."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self.calls: Counter[str] = Counter()
        self.bodies: dict[str, list[Any]] = {}
        self.problems: list[str] = []
        self.latency: dict[str, float] = {}
        self.fail_ratio = 0.0
        self.status: int | None = None
        self.content_policy = False
        self.stall = 0.0
        self.injected = 0
        self._streak: Counter[str] = Counter()
        self._rng = random.Random(20260101)
        self._lock = threading.Lock()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.route("GET", r"/files/(?P<name>[\w.\-]+)", self._file, api=False)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the test's own log
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what subclasses use ---------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, *, api: bool = True) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler, api))

    def error(self, status: int, headers: dict[str, str] | None = None) -> Response:
        """The vendor's error body for a status (subclasses override)."""
        return Response(f'{{"error": "status {status}"}}', status=status, mimetype="application/json",
                        headers=headers)

    def problem(self, text: str, status: int = 400) -> Response:
        with self._lock:
            self.problems.append(text)
        return self.error(status)

    def host_file(self, name: str, data: bytes, mimetype: str) -> str:
        with self._lock:
            self.files[name] = (data, mimetype)
        return f"{self.url}/files/{name}"

    def require(self, body: Any, spec: dict[str, type | tuple[type, ...]], optional: dict[str, Any] | None = None,
                where: str = "") -> str | None:
        """Field-by-field check: every required field present with its type, nothing unknown. Returns a problem."""
        if not isinstance(body, dict):
            return f"{where}: body is not a JSON object"
        allowed = set(spec) | set(optional or {})
        for name, kind in spec.items():
            if name not in body:
                return f"{where}: missing field {name}"
            if not isinstance(body[name], kind) or (kind is int and isinstance(body[name], bool)):
                return f"{where}: field {name} has type {type(body[name]).__name__}"
        for name, kind in (optional or {}).items():
            if name in body and not isinstance(body[name], kind):
                return f"{where}: field {name} has type {type(body[name]).__name__}"
        unknown = set(body) - allowed
        return f"{where}: unexpected fields {sorted(unknown)}" if unknown else None

    def record(self, key: str, body: Any) -> None:
        with self._lock:
            self.bodies.setdefault(key, []).append(body)

    # -- dispatch --------------------------------------------------------------------------------------------
    def _inject(self, key: str) -> bool:
        with self._lock:
            if self._streak[key] >= 2 or self._rng.random() >= self.fail_ratio:
                self._streak[key] = 0
                return False
            self._streak[key] += 1
            self.injected += 1
            return True

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        for method, pattern, handler, api in self.routes:
            match = pattern.match(request.path)
            if method != request.method or match is None:
                continue
            key = f"{method} {pattern.pattern.removesuffix('$')}"
            with self._lock:
                self.calls[key] += 1
            if api and self.stall:
                time.sleep(self.stall)
            if api and self.status is not None:
                return self.error(self.status, {"Retry-After": "7"} if self.status in (429, 503) else None)
            if self.fail_ratio and self._inject(key):
                return self.error(503, {"Retry-After": "0"})
            return handler(request, match)
        return self.error(404)

    def _file(self, request: Request, match: re.Match[str]) -> Response:
        found = self.files.get(match["name"])
        if found is None:
            return Response("not found", status=404)
        return Response(found[0], mimetype=found[1])
