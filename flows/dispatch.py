"""The dispatcher: intake rows → flow runs of their deployment, as fast as Prefect accepts them.

A supervised child of ``reelflow serve`` and, for scale-out, ``reelflow dispatch`` (run as many as you like: rows
are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease). Each claimed batch is created with Prefect's bulk
endpoint, ``BULK`` runs per request and per Prefect transaction (``REELFLOW_DISPATCH_CONCURRENCY`` requests in
flight), and recorded with one UPDATE: a create per run costs Prefect a request, a transaction and a commit each, so
one by one the drain could not keep up with the rate Prefect itself accepts creates. Every run is created with Prefect's
``idempotency_key`` = the request id, so a dispatcher that dies between creating a run and recording it (or two
dispatchers whose leases overlapped) can never make two runs of one request. While Prefect is down the claimed rows
go back to the queue and the dispatcher retries with a capped backoff; the API keeps accepting jobs meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import DeploymentFlowRunCreate
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Scheduled, to_state_create
from sqlalchemy.ext.asyncio import AsyncEngine

from core import intake
from core.intake_db import intake_url, prepare
from core.jobstate import CANCELLED, FAILED, REQUEST_ID, job_tags, run_name
from core.settings import get_settings
from flows.ui import tags_for

log = logging.getLogger("reelflow.dispatch")
LEASE = 60.0  # seconds a claim holds; a dispatcher that died releases its rows when it lapses
IDLE = 0.2  # seconds between polls of an empty queue
MAX_BACKOFF = 5.0


BULK = 50  # runs per bulk create (Prefect takes at most 100 per call, in one transaction)
# Prefect's reasons for refusing a run itself (bulk results carry them as text): the job fails with the reason.
REFUSALS = ("Parameter validation failed", "Parameter schema enforcement", "Invalid schema", "Error hydrating",
            "job variables", "Cannot create flow run")


class PrefectBusy(Exception):
    """Prefect could not take a run now (down, restarting, deployment not registered yet): retry later."""


class Dispatcher:
    """Claims, creates, records; one per process, any number per database."""

    def __init__(self, engine: AsyncEngine, client: PrefectClient) -> None:
        self.engine, self.client = engine, client
        self.settings = get_settings()
        self._deployments: dict[str, UUID] = {}
        self.created = 0

    async def _deployment(self, name: str) -> UUID:
        if name not in self._deployments:
            try:
                self._deployments[name] = (await self.client.read_deployment_by_name(name)).id
            except (httpx.TransportError, ObjectNotFound) as exc:
                raise PrefectBusy(str(exc) or type(exc).__name__) from exc
        return self._deployments[name]

    async def create(self, kind: str, rows: list[intake.Row]) -> None:
        """One bulk create of ``rows`` (all of deployment ``kind``): one request and one Prefect transaction for up
        to ``BULK`` runs, where a create each would cost Prefect a request, a transaction and a commit per run.
        Results come back in order; a row Prefect refused fails with its reason, one it could not make now is
        handed back to the queue."""
        deployment = await self._deployment(kind)
        body = [DeploymentFlowRunCreate(
            parameters=row.parameters, state=to_state_create(Scheduled()),
            name=run_name(row.request_id, row.parameters), idempotency_key=row.request_id,
            tags=job_tags(row.key_id, row.request_id, webhook=row.webhook, extra=row.tags)
            + tags_for(kind, row.parameters), labels={REQUEST_ID: row.request_id},
        ).model_dump(mode="json", exclude_unset=True) for row in rows]
        try:
            response = await self.client.request(
                "POST", "/deployments/{id}/create_flow_run/bulk",  # type: ignore[arg-type]  # not in ServerRoutes
                path_params={"id": deployment}, json=body)
        except httpx.TransportError as exc:
            raise PrefectBusy(str(exc) or type(exc).__name__) from exc
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:  # the deployment was re-registered under a new id: look it up again
                self._deployments.pop(kind, None)
            if exc.response.status_code >= 500 or exc.response.status_code in (404, 408, 409, 429) or _csrf(exc):
                raise PrefectBusy(f"Prefect answered {exc.response.status_code}") from exc
            for row in rows:
                await self._refused(row, exc.response.status_code, exc.response.text[:300])
            return
        runs: dict[str, str] = {}
        retry: list[intake.Row] = []
        for row, result in zip(rows, response.json()["results"], strict=True):
            if result["status"] == "CREATED":
                runs[row.request_id] = str(result["flow_run_id"])
            elif any(reason in (result.get("error") or "") for reason in REFUSALS):
                await self._refused(row, 400, str(result["error"])[:300])
            else:
                retry.append(row)
        self.created += len(runs)
        for request_id in await intake.dispatched(self.engine, runs):  # cancelled while being created
            await self.client.set_flow_run_state(UUID(runs[request_id]), Cancelled(message="Cancelled by the caller"),
                                                 force=True)
            body_ = {"request_id": request_id, "status": CANCELLED, "progress": 0, "stage": None, "details": {},
                     "message": "The request was cancelled."}
            await intake.record(self.engine, request_id, CANCELLED, body_)
        if retry:  # drain_once hands them back to the queue
            raise PrefectBusy(f"Prefect could not create {len(retry)} of {len(rows)} runs now")

    async def _refused(self, row: intake.Row, code: int, reason: str) -> None:
        """Prefect rejected the run itself (not a passing outage): the job fails with Prefect's reason."""
        log.error("Prefect refused the run of %s: %s", row.request_id, reason)
        body = {"request_id": row.request_id, "status": FAILED, "progress": 0, "stage": None, "details": {},
                "message": f"the job service refused this job ({code}): {reason}"}
        await intake.record(self.engine, row.request_id, FAILED, body, drop=True)

    async def drain_once(self) -> int:
        """Claim one batch and create its runs in bulk chunks; the number claimed. Raises PrefectBusy after handing
        back what could not be created."""
        rows = await intake.claim(self.engine, self.settings.dispatch_batch, LEASE)
        if not rows:
            return 0
        chunks = [chunk for kind in dict.fromkeys(row.kind for row in rows)
                  for chunk in _chunks(kind, [row for row in rows if row.kind == kind])]
        slots = asyncio.Semaphore(self.settings.dispatch_concurrency)

        async def guarded(kind: str, chunk: list[intake.Row]) -> None:
            async with slots:
                await self.create(kind, chunk)

        if self.created == 0:  # the first write fetches the client's CSRF token (scale-out): alone, see _csrf
            first = list(await asyncio.gather(guarded(*chunks[0]), return_exceptions=True))
            outcomes = first + await asyncio.gather(*(guarded(*c) for c in chunks[1:]), return_exceptions=True)
        else:
            outcomes = await asyncio.gather(*(guarded(*c) for c in chunks), return_exceptions=True)
        failed = [row.request_id for (_, chunk), out in zip(chunks, outcomes, strict=True)
                  if isinstance(out, BaseException) for row in chunk]
        await intake.release(self.engine, failed)  # rows already recorded or dropped are not DISPATCHING: kept
        busy = next((out for out in outcomes if isinstance(out, BaseException)), None)
        if busy is not None:
            if not isinstance(busy, PrefectBusy):
                log.error("dispatching failed unexpectedly: %r", busy)
            raise PrefectBusy(str(busy))
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.0
        while not stop.is_set():
            try:
                done = await self.drain_once()
                backoff = 0.0
            except PrefectBusy as exc:
                backoff = min(MAX_BACKOFF, max(0.25, backoff * 2))
                log.warning("Prefect is not taking runs (%s); retrying in %.1f s", exc, backoff)
                done = 0
                await _wait(stop, backoff)
                continue
            except Exception as exc:  # the database restarting, say: keep going, say why
                log.warning("dispatch pass failed: %s", exc)
                await _wait(stop, 1.0)
                continue
            if done == 0:
                await _wait(stop, IDLE)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def serve() -> None:
    """Run one dispatcher until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    engine = await prepare(intake_url(get_settings()))
    try:
        async with get_client() as client:
            log.info("dispatcher started")
            await Dispatcher(engine, client).run(stop)
    finally:
        await engine.dispose()


def main() -> None:
    """Lower our priority first when asked (``REELFLOW_DISPATCH_NICE``): draining is throughput work, and on a
    machine it shares with the API, each create or status that waits behind a dispatch pass is latency a caller
    sees. Off by default: on a machine saturated by renders a niced dispatcher starves."""
    os.nice(get_settings().dispatch_nice)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per create would bury everything else
    asyncio.run(serve())


def _chunks(kind: str, rows: list[intake.Row]) -> list[tuple[str, list[intake.Row]]]:
    return [(kind, rows[i:i + BULK]) for i in range(0, len(rows), BULK)]


def _csrf(exc: httpx.HTTPStatusError) -> bool:
    """A CSRF refusal is about our client's token, not the job: with CSRF protection on (scale-out), concurrent first
    writes each fetch a token and each fetch invalidates the one before, so some creates come back 403 although the
    job is fine. Such a create is retried like an outage, and the first write of a dispatcher goes alone."""
    return exc.response.status_code == 403 and "CSRF" in exc.response.text


if __name__ == "__main__":
    main()
