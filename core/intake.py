"""The intake table's queries: accept a job, hand it to a dispatcher, record how it ended, list a key's jobs.

The transactional outbox in front of Prefect: ``POST /create_*`` commits one row and answers; dispatchers turn
rows into flow runs at the rate Prefect accepts. A row moves through phases ``QUEUED`` → ``DISPATCHING`` (claimed
by one dispatcher for ``lease`` seconds; a dispatcher that dies lets the claim lapse) → ``DISPATCHED`` (its flow run
exists); a row cancelled before that becomes ``DROPPED``. Its ``status`` is the API status (``core.jobstate``):
PENDING until the flow starts, then IN_PROGRESS, then the terminal status with the ``record`` (the ``/status`` body
the job ended with), written by the flow's terminal hook and repaired by the reconciler.

Cancel and dispatch race safely through row locks: cancel sets ``cancel_requested`` on any phase; a dispatcher that
finishes creating a run reads that flag in the same UPDATE that records the run, and cancels the run itself.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.errors import ReelflowError
from core.intake_db import driver
from core.jobstate import ACTIVE, CANCELLED, IN_PROGRESS, PENDING, TERMINAL

_ACTIVE_SQL = ", ".join(f"'{s}'" for s in sorted(ACTIVE))
_COLUMNS = ("r.request_id, r.seq, r.key_id, r.kind, r.parameters, r.idempotency_key, r.webhook, r.created, "
            "r.status, r.phase, r.flow_run_id, r.cancel_requested, r.record, r.tags, r.webhook_state")


class AdmissionRefused(ReelflowError):
    """The key has as many active jobs as it may (``REELFLOW_MAX_ACTIVE_PER_KEY``); try again after a while."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Row:
    """One request as the intake knows it."""

    request_id: str
    seq: int
    key_id: str
    kind: str
    parameters: dict[str, Any]
    idempotency_key: str | None
    webhook: bool
    created: datetime
    status: str
    phase: str
    flow_run_id: str | None
    cancel_requested: bool
    record: dict[str, Any] | None
    tags: tuple[str, ...] = ()
    webhook_state: dict[str, Any] | None = None  # the delivery state's copy (core.intake_webhooks), NULL before it

    @classmethod
    def of(cls, row: Any) -> Row:
        """From a SQLAlchemy row or an asyncpg record."""
        m = row._mapping if hasattr(row, "_mapping") else row
        return cls(str(m["request_id"]), int(m["seq"]), m["key_id"], m["kind"], _json(m["parameters"]),
                   m["idempotency_key"], bool(m["webhook"]), m["created"], m["status"], m["phase"],
                   str(m["flow_run_id"]) if m["flow_run_id"] else None, bool(m["cancel_requested"]),
                   _json(m["record"]) if m["record"] is not None else None,
                   tuple(json.loads(m["tags"]) if isinstance(m["tags"], str) else m["tags"] or ()),
                   _json(m["webhook_state"]) if m["webhook_state"] is not None else None)


def _json(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return dict(loaded or {})


_RETURNING = _COLUMNS.replace("r.", "")


async def _existing(conn: AsyncConnection, key_id: str, idempotency: str) -> str | None:
    found = await conn.scalar(text("SELECT request_id FROM intake r WHERE key_id = :k AND idempotency_key = :i"),
                              {"k": key_id, "i": idempotency})
    return str(found) if found else None


# One round trip for nearly every create: insert unless intake_admit (core.intake_db) refuses, or return the
# request an idempotency key already names (an inserted row is invisible to the statement's second half).
_SUBMIT = (
    "WITH ins AS (INSERT INTO intake (request_id, key_id, kind, parameters, idempotency_key, webhook, tags) "
    "SELECT $1::uuid, $2::text, $3::text, $4::jsonb, $5::text, $6::boolean, $7::jsonb WHERE intake_admit($2, $8) "
    "ON CONFLICT (key_id, idempotency_key) DO NOTHING RETURNING request_id) "
    "SELECT request_id, true AS new FROM ins UNION ALL "
    "SELECT request_id, false FROM intake WHERE $5::text IS NOT NULL AND key_id = $2 AND idempotency_key = $5")


async def submit(engine: AsyncEngine, *, key_id: str, kind: str, parameters: dict[str, Any],
                 idempotency: str | None, webhook: bool, limit: int | None,
                 tags: tuple[str, ...] = (), pool: asyncpg.Pool | None = None) -> tuple[str, bool]:
    """Accept one job: (request id, whether it is new). A known idempotency key returns its request again.

    ``limit`` admits at most that many active jobs of the key. Far from the limit a create takes the key's advisory
    lock shared (``intake_admit``): creates of one key run side by side. Near it (within the server's
    ``max_connections``, the most creates that can be in flight at once) they serialise on the exclusive lock for
    the few milliseconds of the count and insert, so concurrent creates can never overshoot it.
    """
    request_id = str(uuid.uuid4())
    async with driver(engine, pool) as pg:
        found = await pg.fetchrow(_SUBMIT, request_id, key_id, kind, json.dumps(parameters), idempotency, webhook,
                                  json.dumps(list(tags)), limit)
    if found is not None:
        return str(found["request_id"]), bool(found["new"])
    return await _submit_near_limit(engine, request_id, key_id=key_id, kind=kind, parameters=parameters,
                                    idempotency=idempotency, webhook=webhook, limit=limit, tags=tags)


async def _submit_near_limit(engine: AsyncEngine, request_id: str, *, key_id: str, kind: str,
                             parameters: dict[str, Any], idempotency: str | None, webhook: bool, limit: int | None,
                             tags: tuple[str, ...]) -> tuple[str, bool]:
    """The exact path: the key's exclusive lock, then the count (its snapshot sees every create that held the
    lock, shared or exclusive, before), then the insert."""
    async with engine.begin() as conn:
        if idempotency is not None and (found := await _existing(conn, key_id, idempotency)):
            return found, False
        if limit is not None:
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key_id})
            active = int(await conn.scalar(text(
                f"SELECT count(*) FROM intake r WHERE key_id = :k AND status IN ({_ACTIVE_SQL})"), {"k": key_id}) or 0)
            if active >= limit:
                raise AdmissionRefused(
                    f"this API key already has {active} jobs pending or in progress (the limit is {limit}, "
                    "REELFLOW_MAX_ACTIVE_PER_KEY); wait for some to finish or cancel some, then try again.",
                    retry_after=30)
        inserted = await conn.scalar(text(
            "INSERT INTO intake (request_id, key_id, kind, parameters, idempotency_key, webhook, tags) "
            "VALUES (:r, :k, :kind, CAST(:p AS jsonb), :i, :w, CAST(:t AS jsonb)) "
            "ON CONFLICT (key_id, idempotency_key) DO NOTHING RETURNING request_id"),
            {"r": request_id, "k": key_id, "kind": kind, "p": json.dumps(parameters), "i": idempotency, "w": webhook,
             "t": json.dumps(list(tags))})
        if inserted is None and idempotency is not None:  # the same key was inserted concurrently: that one wins
            return str(await _existing(conn, key_id, idempotency)), False
        return request_id, True


async def read(engine: AsyncEngine, request_id: str, key_id: str) -> Row | None:
    """The caller's row, or None for an unknown id and another key's id alike."""
    try:
        uuid.UUID(request_id)
    except ValueError:
        return None
    async with engine.connect() as conn:
        row = (await conn.execute(text(f"SELECT {_COLUMNS} FROM intake r WHERE request_id = :r AND key_id = :k"),
                                  {"r": request_id, "k": key_id})).first()
    return Row.of(row) if row else None


async def many(engine: AsyncEngine, request_ids: list[str]) -> list[Row]:
    """Several rows by id (the batch flow follows its jobs with one query)."""
    async with engine.connect() as conn:
        query = text(f"SELECT {_COLUMNS} FROM intake r WHERE request_id = ANY(CAST(:ids AS uuid[]))")
        rows = (await conn.execute(query, {"ids": request_ids})).all()
    return [Row.of(r) for r in rows]


_READ_QUEUED = (
    f"SELECT {_COLUMNS}, CASE WHEN r.phase IN ('QUEUED', 'DISPATCHING') AND r.status = 'PENDING' THEN "
    f"(SELECT count(*) FROM intake q WHERE q.phase IN ('QUEUED', 'DISPATCHING') AND q.status = 'PENDING' "
    f"AND q.seq < r.seq) ELSE 0 END AS ahead FROM intake r WHERE r.request_id = $1::uuid AND r.key_id = $2")


async def read_queued(engine: AsyncEngine, request_id: str, key_id: str,
                      pool: asyncpg.Pool | None = None) -> tuple[Row, int] | None:
    """The caller's row and, while it waits for dispatch, how many wait before it: one round trip for /status."""
    try:
        uuid.UUID(request_id)
    except ValueError:
        return None
    async with driver(engine, pool) as pg:
        row = await pg.fetchrow(_READ_QUEUED, request_id, key_id)
    return (Row.of(row), int(row["ahead"])) if row else None


async def claim(engine: AsyncEngine, limit: int, lease: float) -> list[Row]:
    """Claim the oldest undispatched rows (and lapsed claims) for ``lease`` seconds; other dispatchers skip them."""
    async with engine.begin() as conn:
        rows = (await conn.execute(text(
            f"UPDATE intake SET phase = 'DISPATCHING', claimed_until = now() + make_interval(secs => :lease) "
            f"WHERE request_id IN (SELECT request_id FROM intake r WHERE phase IN ('QUEUED', 'DISPATCHING') "
            f"AND status = 'PENDING' AND (phase = 'QUEUED' OR claimed_until < now()) "
            f"ORDER BY seq LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING {_RETURNING}"),
            {"n": limit, "lease": lease})).all()
    return sorted((Row.of(r) for r in rows), key=lambda r: r.seq)


async def dispatched(engine: AsyncEngine, request_id: str, flow_run_id: str) -> bool:
    """Record the row's flow run; True when a cancel arrived meanwhile (the caller must cancel the run)."""
    async with engine.begin() as conn:
        cancel = await conn.scalar(text(
            "UPDATE intake SET phase = 'DISPATCHED', flow_run_id = :f, dispatched = now(), claimed_until = NULL "
            "WHERE request_id = :r RETURNING cancel_requested"), {"r": request_id, "f": flow_run_id})
    return bool(cancel)


async def release(engine: AsyncEngine, request_ids: list[str]) -> None:
    """Hand claimed rows back to the queue (Prefect refused or was down), in their original order."""
    if request_ids:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE intake SET phase = 'QUEUED', claimed_until = NULL "
                                    "WHERE request_id = ANY(CAST(:ids AS uuid[])) AND phase = 'DISPATCHING'"),
                               {"ids": request_ids})


async def cancel(engine: AsyncEngine, request_id: str, key_id: str) -> tuple[str, str, Row] | None:
    """Ask for a cancel; (phase before, status before, row after). A queued row is cancelled here and never
    reaches Prefect; a row being dispatched is cancelled by its dispatcher right after its run exists."""
    async with engine.begin() as conn:
        before = (await conn.execute(text("SELECT phase, status FROM intake r WHERE request_id = :r AND key_id = :k "
                                          "FOR UPDATE"), {"r": request_id, "k": key_id})).first()
        if before is None:
            return None
        phase, status = before
        if status in TERMINAL:
            pass
        elif phase == "QUEUED":
            body = {"request_id": request_id, "status": CANCELLED, "progress": 0, "stage": None, "details": {},
                    "message": "The request was cancelled."}
            await conn.execute(text("UPDATE intake SET phase = 'DROPPED', status = :s, record = CAST(:b AS jsonb), "
                                    "finished = now(), cancel_requested = true WHERE request_id = :r"),
                               {"r": request_id, "s": CANCELLED, "b": json.dumps(body)})
        else:
            await conn.execute(text("UPDATE intake SET cancel_requested = true WHERE request_id = :r"),
                               {"r": request_id})
        row = (await conn.execute(text(f"SELECT {_COLUMNS} FROM intake r WHERE request_id = :r"),
                                  {"r": request_id})).first()
    return str(phase), str(status), Row.of(row)


async def record(engine: AsyncEngine, request_id: str, status: str, body: dict[str, Any], *,
                 drop: bool = False) -> None:
    """Write the terminal record of a finished job (idempotent: a second writer does not change it).

    ``drop`` also takes a row that never got a run out of the queue (Prefect refused to create it).
    """
    phase = "'DROPPED'" if drop else "phase"
    async with engine.begin() as conn:
        await conn.execute(text(f"UPDATE intake SET status = :s, record = CAST(:b AS jsonb), finished = now(), "
                                f"phase = {phase} WHERE request_id = :r AND record IS NULL"),
                           {"r": request_id, "s": status, "b": json.dumps(body)})


async def started(engine: AsyncEngine, request_id: str) -> None:
    """The flow began running: PENDING → IN_PROGRESS (for listings and their status filter)."""
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE intake SET status = :s WHERE request_id = :r AND status = :p"),
                           {"r": request_id, "s": IN_PROGRESS, "p": PENDING})


async def unsettled(engine: AsyncEngine, limit: int) -> list[Row]:
    """Dispatched rows without a terminal record, least recently checked first (the reconciler's repair list)."""
    async with engine.begin() as conn:
        rows = (await conn.execute(text(
            f"UPDATE intake SET checked = now() WHERE request_id IN (SELECT request_id FROM intake "
            f"WHERE phase = 'DISPATCHED' AND record IS NULL ORDER BY checked NULLS FIRST LIMIT :n "
            f"FOR UPDATE SKIP LOCKED) RETURNING {_RETURNING}"), {"n": limit})).all()
    return [Row.of(r) for r in rows]


async def page(engine: AsyncEngine, key_id: str, *, status: str | None, before: int | None,
               limit: int) -> list[Row]:
    """The key's requests, newest first, strictly older than the cursor ``before`` (a ``seq``)."""
    where = ["key_id = :k"]
    params: dict[str, Any] = {"k": key_id, "n": limit}
    if status is not None:
        where.append("status = :s")
        params["s"] = status
    if before is not None:
        where.append("seq < :b")
        params["b"] = before
    async with engine.connect() as conn:
        rows = (await conn.execute(text(f"SELECT {_COLUMNS} FROM intake r WHERE {' AND '.join(where)} "
                                        f"ORDER BY seq DESC LIMIT :n"), params)).all()
    return [Row.of(r) for r in rows]


__all__ = ["AdmissionRefused", "Row", "cancel", "claim", "dispatched", "many", "page", "read", "read_queued", "record",
           "release", "started", "submit", "unsettled"]
