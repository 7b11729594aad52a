"""The API's side of Prefect: create runs of a deployment, read them, cancel them, and link their files.

One long-lived async Prefect client per API process; deployment ids are looked up once and cached, so creating a
job is a single HTTP call to Prefect and reading one is a single ``read_flow_run``.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Cancelling

from adapter.auth import owner_tag
from adapter.errors import Conflict, Unavailable
from core.errors import NotFound
from core.links import result_with_links
from flows.status import PENDING, api_status, is_terminal

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

    async def create(self, deployment: str, parameters: dict[str, Any], kid: str, idempotency: str | None,
                     webhook: bool = False) -> UUID:
        # "job" marks runs the reconciler may re-queue; "webhook-pending" runs still owe their callback.
        tags = [owner_tag(kid), "reelflow", "job"] + (["webhook-pending"] if webhook else [])
        try:
            run = await self.client.create_flow_run_from_deployment(
                await self._deployment_id(deployment),
                parameters=parameters,
                tags=tags,
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


async def read_result(request_id: str, base_url: str) -> dict[str, Any] | None:
    """The published result of a COMPLETED run, with download links; None if it cannot be read."""
    return await asyncio.to_thread(result_with_links, request_id, base_url)
