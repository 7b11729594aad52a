"""The reconciler's repair of the intake's copies of webhook delivery states (:mod:`core.intake_webhooks`).

The run's labels stay the source; a copy falls behind them in two ways:
- a write of it failed (the intake was unreachable): the delivery logged it and went on, and a settled delivery
  kept its run's ``webhook-pending`` tag, so the run is still among the finished runs the reconciler lists as owing;
- it was never written: rows an older release finished before the copy existed (an upgrade), or whose first
  delivery write has not happened yet.
Copies are read first and labels after: writers write the labels before the copy, so labels read later are never
older than the copy read, and a copy is replaced only if it is still the one read (a delivery writing meanwhile
wins; the next pass compares again). A settled delivery's tag goes once its copy is right.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from sqlalchemy.ext.asyncio import AsyncEngine

from core import intake, intake_webhooks
from core.intake_db import call_sync
from core.jobstate import WEBHOOK_PREFIX, JobLabels, WebhookState
from flows.webhooks import PENDING_TAG, settled

BACKFILL_BATCH = 100
Copy = tuple[str, dict[str, Any], dict[str, Any] | None]  # request id, the labels' state, the copy it replaces


def repair_webhook_copies(client: SyncPrefectClient, owing: list[FlowRun], url: str) -> None:
    """Put right the copies of the finished runs that still owe their callback (``owing``, tagged), then copy the
    state of up to ``BACKFILL_BATCH`` rows that never had one. One intake read, at most one Prefect read."""
    by_request = {rid: run for run in owing if (rid := JobLabels.of(run.labels).request_id)}
    rows, never = call_sync(url, lambda engine: _read(engine, list(by_request)))
    never = [(rid, flow_run_id) for rid, flow_run_id in never if rid not in by_request]
    behind = [row for row in rows if WebhookState.of(row.webhook_state) != _state(by_request[row.request_id])]
    fresh = _runs(client, [by_request[row.request_id].id for row in behind] + [UUID(f) for _, f in never])
    current = {rid: fresh.get(run.id, run) for rid, run in by_request.items()}
    changes: list[Copy] = [(row.request_id, _state(current[row.request_id]).model_dump(), row.webhook_state)
                           for row in behind]
    changes += [(rid, _state(fresh.get(UUID(f))).model_dump(), None) for rid, f in never]
    outcome = call_sync(url, lambda engine: _replace(engine, changes)) if changes else []
    right = {row.request_id for row in rows} - {row.request_id for row in behind}
    right |= {rid for (rid, _, _), done in zip(changes, outcome, strict=True) if done}
    for rid in right & by_request.keys():
        if settled(current[rid]):
            client.update_flow_run(current[rid].id, tags=[t for t in (current[rid].tags or []) if t != PENDING_TAG])


def _state(run: FlowRun | None) -> WebhookState:
    """The delivery state the run's labels say (a run Prefect no longer has: nothing attempted)."""
    return WebhookState.of(run.labels if run is not None else None, WEBHOOK_PREFIX)


def _runs(client: SyncPrefectClient, ids: list[UUID]) -> dict[UUID, FlowRun]:
    if not ids:
        return {}
    found = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=len(ids))
    return {run.id: run for run in found}


async def _read(engine: AsyncEngine, request_ids: list[str]) -> tuple[list[intake.Row], list[tuple[str, str]]]:
    """The owing runs' rows and the rows never copied, on one connection's worth of work."""
    rows = await intake.many(engine, request_ids) if request_ids else []
    return rows, await intake_webhooks.uncopied(engine, BACKFILL_BATCH)


async def _replace(engine: AsyncEngine, changes: list[Copy]) -> list[bool]:
    return [await intake_webhooks.repair(engine, rid, state, seen) for rid, state, seen in changes]
