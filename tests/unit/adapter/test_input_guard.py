"""The API refuses bad input before it talks to Prefect, and a Prefect that refuses is answered at once.

The app's Prefect is either absent (the conftest client: nothing may reach it, so a 400 proves the check ran first)
or a real HTTP server that refuses everything (pytest-httpserver), counted to prove the client does not retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prefect.client.orchestration import PrefectClient
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from adapter.errors import install_handlers
from adapter.http import PrefectFailFast, create_app
from core.settings import get_settings
from tests.unit.adapter.conftest import KEY

BODY = {"input": {"prompt_list": ["A harbour at dawn."], "image_model": "FLUX1.1PRO"}}


def test_a_nul_line_is_a_400_before_prefect_is_asked(client: TestClient) -> None:
    body = {"input": {**BODY["input"], "prompt_list": ["a \u0000 b"]}}
    response = client.post("/v1/video/create_narrative", headers={"API_KEY": KEY}, json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith("input.prompt_list: entry 1 contains the control character U+0000")


def test_a_body_nested_100000_deep_is_a_400(client: TestClient) -> None:
    for path in ("/v1/video/create_narrative", "/v1/video/create_movie"):
        response = client.post(path, headers={"API_KEY": KEY}, content=b"[" * 100_000 + b"]" * 100_000)
        assert response.status_code == 400
        assert response.json() == {"message": "body: JSON nests deeper than 32 levels."}


def test_a_header_that_is_not_utf8_is_a_400() -> None:
    async def call() -> httpx.Response:  # httpx's ASGI transport passes raw header bytes (TestClient re-encodes them)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://t") as api:
            return await api.get("/v1/video/status?request_id=x", headers=[(b"API_KEY", KEY.encode()),
                                                                           (b"X-Note", b"caf\xe9")])

    response = asyncio.run(call())
    assert response.status_code == 400
    assert response.json() == {"message": "header x-note: not valid UTF-8 text"}


def test_creates_are_503_below_the_free_space_floor(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_MIN_FREE_MB", str(10**12))
    get_settings.cache_clear()
    response = client.post("/v1/video/create_narrative", headers={"API_KEY": KEY}, json=BODY)
    assert response.status_code == 503
    assert "low on disk space" in response.json()["message"]


@pytest.fixture
def refusing_prefect(httpserver: HTTPServer) -> Iterator[tuple[TestClient, list[str]]]:
    """An app with the API's Prefect middleware and handlers whose one route reads a flow run from a Prefect that
    answers 503 to every call; the paths that Prefect was asked for."""
    asked: list[str] = []

    def refuse(request: Request) -> Response:
        asked.append(request.path)
        return Response('{"detail": "overloaded"}', status=503, content_type="application/json")

    httpserver.expect_request("").respond_with_handler(refuse)
    app = FastAPI()
    install_handlers(app)
    app.add_middleware(PrefectFailFast)

    @app.get("/run/{run_id}")
    async def read(run_id: str) -> dict[str, str]:
        async with PrefectClient(httpserver.url_for("/api")) as prefect:
            return {"state": str((await prefect.read_flow_run(UUID(run_id))).state)}

    with TestClient(app) as client:
        yield client, asked


def test_a_refusing_prefect_is_a_503_after_one_attempt(refusing_prefect: tuple[TestClient, list[str]]) -> None:
    client, asked = refusing_prefect
    response = client.get("/run/0693f1c2-0000-4000-8000-000000000000")
    assert response.status_code == 503
    assert "could not take the request now (HTTP 503)" in response.json()["message"]
    assert asked.count("/api/flow_runs/0693f1c2-0000-4000-8000-000000000000") == 1
