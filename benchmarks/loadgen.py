"""A lean HTTP/1.1 keep-alive client for the latency benchmarks: one connection per simulated client.

Why not httpx: the load generator runs on the same two cores as the servers it measures. httpx spends about a
millisecond of CPU per request (its request/response models, header normalisation, its connection pool), so at 50
clients it eats a good share of the CPU it is measuring and its own event-loop queue shows up as server latency.
This client writes a prepared request and reads the answer (status, ``Content-Length`` or chunked body) on a raw
asyncio stream, nothing else. Bare Prefect and our API are measured with the same client, so the comparison stays
fair; it is not a general HTTP client (no TLS, no redirects, no proxies).
"""

from __future__ import annotations

import asyncio
import json
import time
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit


class HttpError(Exception):
    """A response whose status is not 2xx (the benchmark stops: its figures would be meaningless)."""


class Connection:
    """One keep-alive connection to ``base_url`` (``http://host:port/prefix``); use as an async context manager."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        fixed = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._writer is not None:
            self._writer.close()

    async def request(self, method: str, path: str, *, json_body: Any = None,
                      params: dict[str, str] | None = None) -> tuple[int, bytes]:
        """(status, body) of one request on this connection."""
        assert self._reader is not None and self._writer is not None
        target = self.prefix + path + (f"?{urlencode(params)}" if params else "")
        body = b"" if json_body is None else json.dumps(json_body).encode()
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if json_body is not None else ""
        self._writer.write(f"{method} {target} HTTP/1.1\r\n{self._fixed}{extra}\r\n".encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            data = bytearray()
            while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
                data += await self._reader.readexactly(size + 2)
                del data[-2:]
            await self._reader.readuntil(b"\r\n")
            return status, bytes(data)
        return status, await self._reader.readexactly(length)

    async def timed(self, into: list[float], method: str, path: str, **kw: Any) -> Any:
        """One request, its duration appended to ``into``; the decoded JSON body. Raises HttpError unless 2xx."""
        start = time.perf_counter()
        try:
            status, body = await self.request(method, path, **kw)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:  # the server dropped the connection: a new one
            await self.__aexit__(None, None, None)
            await self.__aenter__()
            raise HttpError(f"{method} {path}: connection lost ({exc!r})") from exc
        into.append(time.perf_counter() - start)
        if not 200 <= status < 300:
            raise HttpError(f"{method} {path} answered {status}: {body[:300]!r}")
        return json.loads(body)
