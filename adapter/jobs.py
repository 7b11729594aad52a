"""The API's side of a job: accept it into the intake, read its status, cancel it, list a key's jobs.

A create is one committed intake row (milliseconds, and it works while Prefect restarts); the dispatcher
(:mod:`flows.dispatch`) makes the flow run. Status reads, in this order, the terminal record of a finished job
and its webhook delivery state (both in the row: never Prefect), the intake row of a job not yet dispatched
(PENDING and its place in the queue), and the flow run of a job that runs (one ``read_flow_run``).
:meth:`Jobs.create` is the one job-creation function every create endpoint calls.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapter.errors import Conflict, Unavailable
from core import intake
from core.errors import NotFound
from core.intake_db import IntakeNotConfigured, hot_pool, intake_url, prepare
from core.jobstate import CANCELLED, COMPLETED, PENDING, WebhookState, is_terminal
from core.links import result_with_links
from core.settings import get_settings
from flows.records import cancel_state, terminal_record
from flows.status import api_status, completed_message, progress_of, status_body

PREFECT_DOWN = "the job service (Prefect) is not reachable; try again shortly"
INTAKE_DOWN = "the job intake (PostgreSQL) is not reachable; try again shortly"
log = logging.getLogger(__name__)


def queued_body(row: intake.Row, ahead: int) -> dict[str, Any]:
    """The status of a job still in the intake queue."""
    where = "next in the queue" if ahead == 0 else f"{ahead} request{'s' if ahead != 1 else ''} ahead of it"
    return {"request_id": row.request_id, "status": PENDING, "progress": 0, "stage": None, "details": {},
            "message": f"Queued: {where}."}


def _known_shape(request_id: str) -> None:
    """A request id is a UUID: anything else is unknown (404) without asking the intake."""
    try:
        UUID(request_id)
    except ValueError as exc:
        raise NotFound(f"request {request_id} was not found.") from exc


def kind_of(deployment: str) -> str:
    """``narrative/reelflow-narrative`` → ``narrative`` (the flow's name)."""
    return deployment.split("/", 1)[0]


class Jobs:
    """Create, read, cancel and list jobs owned by an API key."""

    def __init__(self, client: PrefectClient) -> None:
        self.client = client
        self._engine: AsyncEngine | None = None
        self._pool: asyncpg.Pool | None = None  # creates and status reads: raw asyncpg, one round trip each
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        """Open (create, migrate) the intake; on failure log it and try again at the next request."""
        try:
            await self._connect()
        except Unavailable as exc:
            log.warning("%s", exc)

    async def _connect(self) -> AsyncEngine:
        if self._engine is not None:
            return self._engine
        async with self._lock:
            if self._engine is None:
                try:
                    url = intake_url(get_settings())
                    engine = await prepare(url)
                    try:
                        self._pool = await hot_pool(url)
                    except BaseException:  # else each request that retries would leave another engine behind
                        await engine.dispose()
                        raise
                    self._engine = engine
                except (IntakeNotConfigured, OSError, SQLAlchemyError, asyncpg.PostgresError) as exc:
                    raise Unavailable(f"{INTAKE_DOWN} ({exc})") from exc
            return self._engine

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise Unavailable(INTAKE_DOWN)
        return self._engine

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self._engine is not None:
            await self._engine.dispose()

    async def create(self, deployment: str, parameters: dict[str, Any], kid: str, idempotency: str | None,
                     webhook: bool = False) -> str:
        """Accept a job for ``deployment``; its request id once the row is committed (429 past the key's limit)."""
        request_id, _ = await intake.submit(await self._connect(), key_id=kid, kind=deployment, parameters=parameters,
                                            idempotency=idempotency, webhook=webhook,
                                            limit=get_settings().max_active_per_key, pool=self._pool)
        return request_id

    async def _row(self, request_id: str, kid: str) -> intake.Row:
        row = await intake.read(await self._connect(), request_id, kid)
        if row is None:
            raise NotFound(f"request {request_id} was not found.")
        return row

    async def source(self, request_id: str, kid: str) -> intake.Row:
        """The caller's request as accepted (deployment in ``kind``, ``parameters``): what ``/edit`` replays."""
        return await self._row(request_id, kid)

    async def _run(self, flow_run_id: str) -> FlowRun:
        try:
            return await self.client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound as exc:
            raise NotFound("the job's run no longer exists.") from exc
        except httpx.TransportError as exc:
            raise Unavailable(PREFECT_DOWN) from exc

    async def status(self, request_id: str, kid: str, base_url: str) -> dict[str, Any]:
        """The ``/status`` body of the caller's request (404 for unknown ids and other keys' ids alike)."""
        _known_shape(request_id)
        found = await intake.read_queued(await self._connect(), request_id, kid, self._pool)
        if found is None:
            raise NotFound(f"request {request_id} was not found.")
        row, ahead = found
        if row.record is None and row.flow_run_id is None:
            return queued_body(row, ahead)
        if row.record is not None:
            body = dict(row.record)
            if row.webhook and row.flow_run_id:  # its delivery state, copied to the row by every delivery write
                body["webhook"] = WebhookState.of(row.webhook_state).model_dump()
        else:
            assert row.flow_run_id is not None
            run = await self._run(row.flow_run_id)
            body = status_body(run, None)
            if run.state is not None and is_terminal(run.state.type.value):  # the hook has not recorded it yet
                await intake.record(self.engine, row.request_id, api_status(run), terminal_record(run))
        if body.get("status") == COMPLETED:
            body["result"] = await asyncio.to_thread(result_with_links, row.request_id, base_url)
            body["message"] = completed_message(body["result"])
        return body

    async def cancel(self, request_id: str, kid: str) -> dict[str, Any]:
        """Cancel in any phase: a queued row in the table, a row being dispatched by its dispatcher, a run here."""
        _known_shape(request_id)
        outcome = await intake.cancel(await self._connect(), request_id, kid)
        if outcome is None:
            raise NotFound(f"request {request_id} was not found.")
        phase, status, row = outcome
        if is_terminal(status):
            raise Conflict(f"request {request_id} has already finished ({status}); it cannot be cancelled.")
        if row.flow_run_id is None:  # cancelled in the table, or by the dispatcher once its run exists
            return {"request_id": request_id, "status": CANCELLED, "progress": 0, "stage": None, "details": {},
                    "message": "The request was cancelled."}
        run = await self._run(row.flow_run_id)
        if run.state is not None and is_terminal(run.state.type.value):
            raise Conflict(f"request {request_id} has already finished ({api_status(run)}); it cannot be cancelled.")
        try:
            outcome = await self.client.set_flow_run_state(run.id, cancel_state(run), force=True)
            if outcome.state is not None:  # the state Prefect set: no second read needed
                run = run.model_copy(update={"state": outcome.state})
        except httpx.TransportError as exc:  # the reconciler applies the recorded cancel once Prefect is back
            raise Unavailable(PREFECT_DOWN) from exc
        if run.state is not None and is_terminal(run.state.type.value):  # never started: no hook will record it
            await intake.record(self.engine, request_id, api_status(run), terminal_record(run))
        return status_body(run, None)

    async def list(self, kid: str, status: str | None, before: int | None, limit: int) -> list[dict[str, Any]]:
        """One page of the caller's requests, newest first; live progress of running ones in one Prefect read."""
        rows = await intake.page(await self._connect(), kid, status=status, before=before, limit=limit)
        live = [row.flow_run_id for row in rows if row.record is None and row.flow_run_id]
        runs: dict[str, FlowRun] = {}
        if live:
            try:
                found = await self.client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(i) for i in live])), limit=len(live))
                runs = {str(run.id): run for run in found}
            except httpx.TransportError:
                pass  # listings still answer while Prefect restarts, from the table alone
        return [self._item(row, runs.get(row.flow_run_id or "")) for row in rows]

    @staticmethod
    def _item(row: intake.Row, run: FlowRun | None) -> dict[str, Any]:
        status, progress = row.status, 100 if row.status == COMPLETED else 0
        if row.record is not None:
            progress = int(row.record.get("progress", progress))
        elif run is not None:
            status = api_status(run)
            progress = progress_of(run, status)
        return {"request_id": row.request_id, "kind": kind_of(row.kind), "status": status, "progress": progress,
                "created": row.created.isoformat(), "cursor": row.seq}
