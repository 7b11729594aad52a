"""Refuse a request whose path, query or header values are not valid text, before any route reads them.

Why a middleware: the values reach many places (routes, auth, storage paths, Prefect) and each used to fail in its
own way on a NUL or on bytes that are not UTF-8 (a ``ValueError: embedded null byte`` became a 500). Checking the
raw ASGI scope once, with the same rules as the request bodies (:mod:`core.textrules`), gives every caller the same
400 with a message instead.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from core.textrules import header_problem, query_problem, text_problem


def request_problem(scope: Scope) -> str | None:
    """Why the request line or headers of ``scope`` are not valid text, or None."""
    if (problem := text_problem(scope.get("path", ""))) is not None:
        return f"path: {problem}"
    if (problem := query_problem(scope.get("query_string", b""))) is not None:
        return problem
    for name, value in scope.get("headers", []):
        if (problem := header_problem(name, value)) is not None:
            return problem
    return None


class TextGuard:
    """Pure ASGI middleware: 400 ``{"message": ...}`` for a request that is not valid text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = request_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"message": problem}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
