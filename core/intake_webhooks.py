"""The intake's copy of a job's webhook delivery state, so ``/status`` of a finished job never reads Prefect.

The run's labels stay the source (the delivery flow and the reconciler schedule from them, the UI shows them);
every writer of the labels' ``status``, ``attempts`` or ``last_error`` then merges the same fields into the row
(:func:`merge`, best effort). A copy that missed a write, or was never written (:func:`uncopied`: rows finished
before the copy existed), is put right by the reconciler (:func:`repair`), which replaces it only if nobody wrote it
since the reconciler read it, so a slow repair never overwrites a newer state.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.jobstate import WEBHOOK_FIELDS


async def merge(engine: AsyncEngine, request_id: str, fields: dict[str, Any]) -> None:
    """Merge the delivery-state fields among ``fields`` into the row's copy, as a label update merges labels."""
    state = {k: v for k, v in fields.items() if k in WEBHOOK_FIELDS}
    if not state:
        return
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE intake SET webhook_state = coalesce(webhook_state, '{}'::jsonb) || "
                                "CAST(:f AS jsonb) WHERE request_id = :r"), {"r": request_id, "f": json.dumps(state)})


async def repair(engine: AsyncEngine, request_id: str, state: dict[str, Any], seen: dict[str, Any] | None) -> bool:
    """Replace the row's copy with ``state`` if it still is ``seen`` (what the caller read); True when replaced."""
    async with engine.begin() as conn:
        done = await conn.scalar(text(
            "UPDATE intake SET webhook_state = CAST(:s AS jsonb) WHERE request_id = :r "
            "AND webhook_state IS NOT DISTINCT FROM CAST(:seen AS jsonb) RETURNING true"),
            {"r": request_id, "s": json.dumps(state), "seen": None if seen is None else json.dumps(seen)})
    return bool(done)


async def uncopied(engine: AsyncEngine, limit: int) -> list[tuple[str, str]]:
    """(request id, flow-run id) of finished jobs with a webhook whose state was never copied, oldest first: rows
    an older release finished, or whose first delivery write has not happened or failed."""
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT request_id, flow_run_id FROM intake WHERE webhook AND record IS NOT NULL "
            "AND flow_run_id IS NOT NULL AND webhook_state IS NULL ORDER BY seq LIMIT :n"), {"n": limit})).all()
    return [(str(r.request_id), str(r.flow_run_id)) for r in rows]
