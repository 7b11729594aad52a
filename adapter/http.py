"""The API app factory: routers, error handlers, one Prefect client and one intake engine per process, ``/health``.

Run with ``uvicorn adapter.http:create_app --factory``. The Prefect API is found through ``PREFECT_API_URL``.
The Model Context Protocol endpoint (``adapter.mcp_server``) is mounted at ``/mcp``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prefect.client.orchestration import PrefectClient
from prefect.context import SettingsContext, get_settings_context
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, get_current_settings
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter import edit, files, mcp_server, models, video
from adapter.errors import install_handlers
from adapter.jobs import PREFECT_DOWN, Jobs
from adapter.textguard import TextGuard
from core.contract import MovieRequest, NarrativeRequest
from core.edits import EditRequest

log = logging.getLogger(__name__)


class ErrorMessage(BaseModel):
    """Every error body: one human-readable sentence."""

    message: str


def prefect_api_url() -> str:
    """The Prefect server jobs go to. Required: without it Prefect would quietly start a private ephemeral server
    whose runs nothing ever executes."""
    url = os.environ.get("PREFECT_API_URL") or get_current_settings().api.url
    if not url:
        raise RuntimeError("PREFECT_API_URL is not set; the API needs the Prefect server (reelflow serve sets it)")
    return url


class PrefectFailFast:
    """Pure ASGI middleware: the Prefect client of this process does not retry within a request.

    Prefect's client retries 429/502/503 and dropped connections up to ``PREFECT_CLIENT_MAX_RETRIES`` times with
    backoff; right for a flow, wrong for an HTTP caller waiting on us, who got no answer for minutes when Prefect
    kept refusing a request. Each request runs in a copy of the settings context with retries off, so a refusal
    becomes a 4xx or 503 at once (the handlers in :mod:`adapter.errors`) and the caller decides when to retry.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        base = SettingsContext.get() or get_settings_context()
        self._base = base
        self._settings = base.settings.copy_with_update(updates={PREFECT_CLIENT_MAX_RETRIES: 0})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self._base.model_copy(update={"settings": self._settings}):
            await self.app(scope, receive, send)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_current_settings()
    # auth_string: a scale-out Prefect server requires it (docs/scaling.md); get_client() would pass it, the bare
    # PrefectClient does not
    auth = settings.api.auth_string
    async with PrefectClient(prefect_api_url(), api_key=settings.api.key.get_secret_value() if settings.api.key
                             else None, auth_string=auth.get_secret_value() if auth else None) as client, \
            app.state.mcp.session_manager.run():
        jobs = Jobs(client)
        app.state.jobs = jobs
        await jobs.connect()  # creates and migrates the intake on first start; retried on use if it failed
        try:
            yield
        finally:
            await jobs.close()


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for operations in schema.get("paths", {}).values():  # we answer 400, never FastAPI's 422
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for model in (NarrativeRequest, MovieRequest, EditRequest, ErrorMessage):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
    app.openapi_schema = schema
    return schema


def create_app() -> FastAPI:
    """Build the reelflow API."""
    app = FastAPI(
        title="reelflow",
        version="0.1.0",
        description="Text to narrated video (the Samsar One quick-video contract). Authenticate with header API_KEY.",
        lifespan=lifespan,
    )
    install_handlers(app)
    app.add_middleware(PrefectFailFast)
    app.add_middleware(TextGuard)
    app.include_router(video.router)
    app.include_router(edit.router)
    app.include_router(files.router)
    app.include_router(models.router)
    app.state.mcp = mcp_server.build(app)  # the lifespan runs its session manager (a mounted app's never runs)
    app.mount(mcp_server.PATH, mcp_server.streamable_app(app.state.mcp), name="mcp")
    app.add_middleware(mcp_server.ExactPath)

    @app.get("/health", operation_id="health", tags=["ops"], summary="200 when the API can reach Prefect")
    async def health() -> JSONResponse:
        jobs: Jobs = app.state.jobs
        problem = await jobs.client.api_healthcheck()
        if problem is not None:
            return JSONResponse(status_code=503, content={"message": PREFECT_DOWN})
        return JSONResponse({"status": "ok"})

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
