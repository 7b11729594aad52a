"""The Model Context Protocol endpoint at ``/mcp``: create_narrative, create_movie, status and cancel as tools.

Built on the official ``mcp`` SDK (``MCPServer`` with the Streamable HTTP transport, mounted in the FastAPI app)
rather than ``fastapi-mcp``: the SDK is the reference implementation and follows the protocol's revisions; a
generator that turns every route into a tool would also expose the file and ops routes.

Each tool forwards to the API's own route in-process (httpx's ``ASGITransport``: no network hop) with the caller's
own ``API_KEY``, so validation, per-key ownership, idempotency and every ``message`` are the API's by construction;
an API error comes back as a tool error carrying that message. The endpoint itself demands a valid key exactly like
the API (missing/empty → 400, unknown → 401, both as ``{"message": ...}``) before the MCP transport sees the request.

Stateless HTTP with JSON responses: no session lives in one API process, so several API processes behind a load
balancer serve MCP like any other route. DNS-rebinding protection (a Host allowlist) is off because it guards
unauthenticated localhost servers from browser pages; every request here must carry an API key such a page cannot
know, and a Host allowlist would refuse the service's own public hostname.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from fastapi import FastAPI
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.auth import caller_key_id
from adapter.errors import ApiError

PATH = "/mcp"
INSTRUCTIONS = ("reelflow turns text into narrated videos. Create a job with create_narrative (one scene per line) "
                "or create_movie (one prompt, an exact duration), then poll status with its request_id until the "
                "status is COMPLETED (result.videoUrl is the MP4), FAILED or CANCELLED.")


class RequireApiKey:
    """ASGI wrapper: the MCP app answers only callers with a valid API key, the same check as every API route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                await caller_key_id(Request(scope))
            except ApiError as exc:
                await JSONResponse({"message": str(exc)}, status_code=exc.status_code)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ExactPath:
    """App middleware: ``/mcp`` is served as ``/mcp/`` (a Starlette mount answers only below its prefix, and a
    307 to the slashed path would make every MCP client follow a redirect on each POST)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH:
            scope = {**scope, "path": PATH + "/", "raw_path": (PATH + "/").encode()}
        await self.app(scope, receive, send)


def _origin(ctx: Context) -> tuple[str, str]:
    """The caller's API key and the origin it called (so result links point where the caller can reach)."""
    request = ctx.request_context.request
    if not isinstance(request, Request):
        raise ToolError("the reelflow MCP tools are served over HTTP only")
    return request.headers.get("api_key", ""), f"{request.url.scheme}://{request.url.netloc}"


def build(app: FastAPI) -> MCPServer:
    """The MCP server whose tools call ``app``'s routes; mount ``streamable_app(server)`` and run its manager."""
    server = MCPServer("reelflow", instructions=INSTRUCTIONS)

    async def call(ctx: Context, method: str, path: str, *, params: dict[str, str] | None = None,
                   body: dict[str, Any] | None = None) -> dict[str, Any]:
        key, origin = _origin(ctx)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=origin, timeout=60) as client:
            response = await client.request(method, f"/v1/video{path}", params=params, json=body,
                                            headers={"API_KEY": key})
        data = response.json()
        if response.status_code >= 400:
            raise ToolError(str(data.get("message") if isinstance(data, dict) else data))
        return dict(data)

    def clean(values: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in values.items() if value is not None}

    @server.tool()
    async def create_narrative(ctx: Context, prompt_list: list[str], image_model: str = "FLUX1.1PRO",
                               aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9", speaker: str | None = None,
                               provider: str | None = None, add_generative_video: bool = False,
                               video_model: str | None = None, webhookUrl: str | None = None,  # noqa: N803
                               ) -> dict[str, Any]:
        """Start a narrated video, one scene per line of prompt_list (at most 20). Returns {"request_id"}; poll
        the status tool with it. image_model/video_model are keys of GET /v1/video/models (express models)."""
        spec = clean({"prompt_list": prompt_list, "image_model": image_model, "aspect_ratio": aspect_ratio,
                      "speaker": speaker, "provider": provider, "add_generative_video": add_generative_video,
                      "video_model": video_model})
        return await call(ctx, "POST", "/create_narrative", body=clean({"input": spec, "webhookUrl": webhookUrl}))

    @server.tool()
    async def create_movie(ctx: Context, prompt: str, duration: float, image_model: str = "FLUX1.1PRO",
                           video_model: str = "KLINGIMGTOVIDPRO",
                           aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9", speaker: str | None = None,
                           provider: str | None = None, narration: bool = True,
                           transition: Literal["cut", "fade"] = "cut",
                           webhookUrl: str | None = None,  # noqa: N803
                           ) -> dict[str, Any]:
        """Start a movie of exactly `duration` seconds (at most 120) from one prompt (at most 500 characters).
        Returns {"request_id"}; poll the status tool with it."""
        spec = clean({"prompt": prompt, "duration": duration, "image_model": image_model,
                      "video_model": video_model, "aspect_ratio": aspect_ratio, "speaker": speaker,
                      "provider": provider, "narration": narration, "transition": transition})
        return await call(ctx, "POST", "/create_movie", body=clean({"input": spec, "webhookUrl": webhookUrl}))

    @server.tool()
    async def status(ctx: Context, request_id: str) -> dict[str, Any]:
        """A job's status (PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELLED), progress 0-100, current stage,
        message, and when COMPLETED the result with videoUrl (a signed MP4 link)."""
        return await call(ctx, "GET", "/status", params={"request_id": request_id})

    @server.tool()
    async def cancel(ctx: Context, request_id: str) -> dict[str, Any]:
        """Cancel a job that has not finished; returns its status."""
        return await call(ctx, "POST", "/cancel", params={"request_id": request_id})

    return server


def streamable_app(server: MCPServer) -> ASGIApp:
    """The Streamable HTTP app (endpoint at the mount point itself), behind the API-key check."""
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return RequireApiKey(server.streamable_http_app(streamable_http_path="/", stateless_http=True,
                                                    json_response=True, transport_security=security))
