"""The dispatcher: intake rows → flow runs of their deployment, as fast as Prefect accepts them.

A supervised child of ``reelflow serve`` and, for scale-out, ``reelflow dispatch`` (run as many as you like: rows
are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease). Each claimed batch is created concurrently
(``REELFLOW_DISPATCH_CONCURRENCY`` requests in flight): one create costs Prefect ≈ 40 ms of CPU, so creating them
one by one would leave the server idle between round trips. Every run is created with Prefect's
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
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled
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
            self._deployments[name] = (await self.client.read_deployment_by_name(name)).id
        return self._deployments[name]

    async def create(self, row: intake.Row) -> None:
        """One row's flow run; cancels it at once when the caller cancelled while it was being created."""
        try:
            run = await self.client.create_flow_run_from_deployment(
                await self._deployment(row.kind), parameters=row.parameters,
                name=run_name(row.request_id, row.parameters),
                tags=job_tags(row.key_id, row.request_id, webhook=row.webhook, extra=row.tags)
                + tags_for(row.kind, row.parameters),
                idempotency_key=row.request_id, labels={REQUEST_ID: row.request_id},
            )
        except (httpx.TransportError, ObjectNotFound) as exc:
            raise PrefectBusy(str(exc) or type(exc).__name__) from exc
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code >= 500 or exc.response.status_code in (408, 409, 429) or _csrf(exc):
                raise PrefectBusy(f"Prefect answered {exc.response.status_code}") from exc
            await self._refused(row, exc)
            return
        self.created += 1
        if await intake.dispatched(self.engine, row.request_id, str(run.id)):  # cancelled while being created
            await self.client.set_flow_run_state(run.id, Cancelled(message="Cancelled by the caller"), force=True)
            body = {"request_id": row.request_id, "status": CANCELLED, "progress": 0, "stage": None, "details": {},
                    "message": "The request was cancelled."}
            await intake.record(self.engine, row.request_id, CANCELLED, body)

    async def _refused(self, row: intake.Row, exc: httpx.HTTPStatusError) -> None:
        """Prefect rejected the run itself (not a passing outage): the job fails with Prefect's reason."""
        reason = exc.response.text[:300]
        log.error("Prefect refused the run of %s: %s", row.request_id, reason)
        body = {"request_id": row.request_id, "status": FAILED, "progress": 0, "stage": None, "details": {},
                "message": f"the job service refused this job ({exc.response.status_code}): {reason}"}
        await intake.record(self.engine, row.request_id, FAILED, body, drop=True)

    async def drain_once(self) -> int:
        """Claim one batch and create its runs; the number created. Raises PrefectBusy after releasing the rest."""
        rows = await intake.claim(self.engine, self.settings.dispatch_batch, LEASE)
        if not rows:
            return 0
        slots = asyncio.Semaphore(self.settings.dispatch_concurrency)

        async def guarded(row: intake.Row) -> None:
            async with slots:
                await self.create(row)

        if self.created == 0:  # the first write fetches the client's CSRF token (scale-out): alone, see _csrf
            first = await asyncio.gather(guarded(rows[0]), return_exceptions=True)
            outcomes = first + await asyncio.gather(*(guarded(row) for row in rows[1:]), return_exceptions=True)
        else:
            outcomes = await asyncio.gather(*(guarded(row) for row in rows), return_exceptions=True)
        failed = [row.request_id for row, out in zip(rows, outcomes, strict=True) if isinstance(out, BaseException)]
        await intake.release(self.engine, failed)
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


def _csrf(exc: httpx.HTTPStatusError) -> bool:
    """A CSRF refusal is about our client's token, not the job: with CSRF protection on (scale-out), concurrent first
    writes each fetch a token and each fetch invalidates the one before, so some creates come back 403 although the
    job is fine. Such a create is retried like an outage, and the first write of a dispatcher goes alone."""
    return exc.response.status_code == 403 and "CSRF" in exc.response.text


if __name__ == "__main__":
    main()
