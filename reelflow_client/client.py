"""``ReelflowClient``: the public HTTP API of a reelflow server, typed.

Hand-written on httpx rather than generated with openapi-python-client: the API is six endpoints, its bodies are
the seed contract (validated by the server, which answers every rule with a 400 ``message``), and a generator would
add a code-generation step, its own runtime package and ~40 modules to review for what ``wait``/``download`` add on
top anyway. Synchronous, because its users (the CLI, scripts, notebooks) are; an async caller can run it in a
thread. ``http_client=`` lets a test or an app inject its own ``httpx.Client`` (a transport, a TestClient).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from reelflow_client.errors import Conflict, JobFailed, ServiceUnreachable, WaitTimeout, error_for
from reelflow_client.models import COMPLETED, JobStatus, RequestPage

DEFAULT_URL = "http://127.0.0.1:8000"
PREFIX = "/v1/video"


class ReelflowClient:
    """One API key against one server. Use as a context manager (or call ``close()``)."""

    def __init__(self, api_key: str, base_url: str = DEFAULT_URL, *, timeout: float = 30.0,
                 http_client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(base_url=self.base_url, timeout=timeout)
        self._headers = {"API_KEY": api_key}

    def __enter__(self) -> ReelflowClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              json: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        """One request; connection failures become ``ServiceUnreachable``, error statuses their typed ``ApiError``."""
        try:
            response = self._http.request(method, f"{PREFIX}{path}", params=params, json=json,
                                          headers={**self._headers, **(headers or {})})
        except httpx.TransportError as exc:
            raise ServiceUnreachable(self.base_url, type(exc).__name__) from exc
        if response.status_code >= 400:
            raise error_for(response)
        return response.json()

    def _create(self, kind: str, body: Mapping[str, Any], idempotency_key: str | None) -> str:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return str(self._call("POST", f"/create_{kind}", json=dict(body), headers=headers)["request_id"])

    def create_narrative(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> str:
        """Submit a create_narrative body (``{"input": {...}, "webhookUrl": ...}``); returns the request id."""
        return self._create("narrative", body, idempotency_key)

    def create_movie(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> str:
        """Submit a create_movie body; returns the request id."""
        return self._create("movie", body, idempotency_key)

    def status(self, request_id: str) -> JobStatus:
        return JobStatus.from_json(self._call("GET", "/status", params={"request_id": request_id}), request_id)

    def cancel(self, request_id: str) -> JobStatus:
        """Cancel a job that has not finished (a finished one is a ``Conflict``)."""
        return JobStatus.from_json(self._call("POST", "/cancel", params={"request_id": request_id}), request_id)

    def list(self, *, status: str | None = None, cursor: str | None = None, limit: int | None = None) -> RequestPage:
        """One page of the caller's requests, newest first (``NotFound`` from a server without the endpoint)."""
        params = {k: v for k, v in {"status": status, "cursor": cursor, "limit": limit}.items() if v is not None}
        return RequestPage.from_json(self._call("GET", "/requests", params=params))

    def wait(self, request_id: str, *, poll_interval: float = 1.0, timeout: float | None = None,
             raise_on_failure: bool = False, on_update: Callable[[JobStatus], None] | None = None) -> JobStatus:
        """Poll ``status`` until the job is COMPLETED, FAILED or CANCELLED and return that status.

        ``on_update`` sees every polled status (a progress bar). With ``raise_on_failure`` a FAILED or CANCELLED
        job raises ``JobFailed`` carrying the API's message; ``timeout`` (seconds) raises ``WaitTimeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.status(request_id)
            if on_update is not None:
                on_update(current)
            if current.is_final:
                if raise_on_failure and current.status != COMPLETED:
                    raise JobFailed(current)
                return current
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(current, timeout or 0)
            time.sleep(poll_interval)

    def download(self, request_id: str, path: str | Path) -> Path:
        """Write a COMPLETED job's MP4 to ``path`` (streamed) and return the path.

        The link is signed (or an S3 presigned URL), so it is fetched without the API key: the key never travels to
        an object store. A job not yet COMPLETED raises ``JobFailed`` if it ended, else a ``Conflict``
        saying to wait.
        """
        current = self.status(request_id)
        url = current.video_url
        if url is None:
            if current.is_final:
                raise JobFailed(current)
            raise Conflict(409, f"request {request_id} is {current.status}, not COMPLETED yet; wait for it first")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with httpx.stream("GET", url, timeout=self._http.timeout, follow_redirects=True) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_for(response)
                with target.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise ServiceUnreachable(url.split("?")[0], type(exc).__name__) from exc
        return target
