"""The API's side of Prefect: create runs of a deployment, read them, cancel them, and link their files.

One long-lived async Prefect client per API process; deployment ids are looked up once and cached, so creating a
job is a single HTTP call to Prefect and reading one is a single ``read_flow_run``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Cancelling

from adapter.auth import owner_tag
from adapter.errors import Conflict, Unavailable
from adapter.status import PENDING, api_status, is_terminal
from core.errors import NotFound
from core.secrets import link_secret
from core.settings import get_settings
from core.storage import open_storage, signed_file_query

PREFECT_DOWN = "the job service (Prefect) is not reachable; try again shortly"


class Jobs:
    """Create, read and cancel jobs as Prefect flow runs owned by an API key."""

    def __init__(self, client: PrefectClient) -> None:
        self.client = client
        self._deployments: dict[str, UUID] = {}
        self._lock = asyncio.Lock()

    async def _deployment_id(self, name: str) -> UUID:
        if name not in self._deployments:
            async with self._lock:
                try:
                    deployment = await self.client.read_deployment_by_name(name)
                except ObjectNotFound as exc:
                    raise Unavailable(f"deployment {name} is not registered; is the runner up?") from exc
                self._deployments[name] = deployment.id
        return self._deployments[name]

    async def create(self, deployment: str, parameters: dict[str, Any], kid: str, idempotency: str | None) -> UUID:
        try:
            run = await self.client.create_flow_run_from_deployment(
                await self._deployment_id(deployment),
                parameters=parameters,
                tags=[owner_tag(kid), "reelflow"],
                idempotency_key=f"{kid}:{idempotency}" if idempotency else None,
            )
        except httpx.TransportError as exc:
            raise Unavailable(PREFECT_DOWN) from exc
        return run.id

    async def read(self, request_id: str, kid: str) -> FlowRun:
        """The caller's run, or 404 for an unknown id and for another key's id alike."""
        try:
            run_id = UUID(request_id)
        except ValueError as exc:
            raise NotFound(f"request {request_id} was not found.") from exc
        try:
            run = await self.client.read_flow_run(run_id)
        except ObjectNotFound as exc:
            raise NotFound(f"request {request_id} was not found.") from exc
        except httpx.TransportError as exc:
            raise Unavailable(PREFECT_DOWN) from exc
        if owner_tag(kid) not in (run.tags or []):
            raise NotFound(f"request {request_id} was not found.")
        return run

    async def cancel(self, request_id: str, kid: str) -> FlowRun:
        run = await self.read(request_id, kid)
        if is_terminal(run):
            raise Conflict(f"request {request_id} has already finished ({api_status(run)}); it cannot be cancelled.")
        # A run no process has picked up yet can be cancelled outright; a running one is asked to stop.
        state = Cancelled(message="Cancelled by the caller") if api_status(run) == PENDING else Cancelling()
        await self.client.set_flow_run_state(run.id, state, force=True)
        return await self.client.read_flow_run(run.id)


def _link(key: str, base_url: str) -> str:
    settings = get_settings()
    store = open_storage(settings.media_url)
    if not store.is_local:
        return store.presigned_url(key, settings.link_ttl)
    base = (settings.public_url or base_url).rstrip("/")
    return f"{base}/v1/video/files/{signed_file_query(link_secret(settings), key, settings.link_ttl)}"


def _result_links(raw: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "videoUrl": _link(raw["video"], base_url),
        "captions": {"srt": _link(raw["srt"], base_url), "vtt": _link(raw["vtt"], base_url)},
        "posterUrl": _link(raw["poster"], base_url),
        "duration": raw["duration"],
        "width": raw["width"],
        "height": raw["height"],
        "aspect_ratio": raw["aspect_ratio"],
        "size_bytes": raw["size_bytes"],
        "rendered_by": raw["rendered_by"],
        "scenes": [
            {"index": s["index"], "text": s["text"], "duration": s["duration"],
             "imageUrl": _link(s["image"], base_url), "clipUrl": _link(s["clip"], base_url)}
            for s in raw.get("scenes", [])
        ],
    }


async def read_result(request_id: str, base_url: str) -> dict[str, Any] | None:
    """The published result of a COMPLETED run, with download links; None if it cannot be read."""

    def load() -> dict[str, Any] | None:
        store = open_storage(get_settings().media_url)
        key = f"jobs/{request_id}/result.json"
        if not store.exists(key):
            return None
        return _result_links(json.loads(store.get_bytes(key)), base_url)

    return await asyncio.to_thread(load)
