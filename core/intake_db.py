"""Where the intake table lives and how it gets there: its URL, its database, its versioned migrations.

The intake is a table in its own database (``reelflow`` by default) on the same PostgreSQL server as Prefect: the
embedded one of ``make run`` (``reelflow serve`` passes ``REELFLOW_INTAKE_URL``) or the external one of a
scale-out (derived from ``REELFLOW_DATABASE_URL``). The service creates the database and migrates it at start-up;
nobody runs SQL by hand.

Migrations are a short ordered list of SQL statements recorded in ``intake_schema`` and applied once each, in one
transaction under an advisory lock, so an API, a dispatcher and a worker starting at the same moment never race.
Alembic (installed with Prefect) would give the same guarantees but wants an ``env.py``, a script directory and an
``alembic.ini`` for what is here two tables; if the schema grows branches or downgrades, switch to it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from core.errors import ReelflowError
from core.settings import Settings

T = TypeVar("T")
HOT_POOL = 16  # connections of one API process's asyncpg pool (a statement holds one for a round trip)
MIGRATION_LOCK = 7_201_301  # pg_advisory_xact_lock key: one migrator at a time
MIGRATIONS: tuple[str, ...] = (
    """CREATE TABLE intake (
        request_id uuid PRIMARY KEY,
        seq bigserial UNIQUE,
        key_id text NOT NULL,
        kind text NOT NULL,
        parameters jsonb NOT NULL,
        idempotency_key text,
        webhook boolean NOT NULL DEFAULT false,
        tags jsonb NOT NULL DEFAULT '[]',
        created timestamptz NOT NULL DEFAULT now(),
        status text NOT NULL DEFAULT 'PENDING',
        phase text NOT NULL DEFAULT 'QUEUED',
        claimed_until timestamptz,
        flow_run_id uuid,
        dispatched timestamptz,
        cancel_requested boolean NOT NULL DEFAULT false,
        record jsonb,
        finished timestamptz,
        checked timestamptz,
        UNIQUE (key_id, idempotency_key)
    )""",
    "CREATE INDEX intake_queue ON intake (seq) WHERE phase IN ('QUEUED', 'DISPATCHING')",
    "CREATE INDEX intake_owner ON intake (key_id, seq DESC)",
    "CREATE INDEX intake_active ON intake (key_id) WHERE status IN ('PENDING', 'IN_PROGRESS')",
    "CREATE INDEX intake_unsettled ON intake (checked NULLS FIRST) WHERE phase = 'DISPATCHED' AND record IS NULL",
    # Admission without serialising every create of a key (core.intake.submit): while the key is further from its
    # limit than the server has connections, at most that many creates can be in flight unseen, so a shared lock
    # and a count suffice; nearer the limit (or for limits below max_connections) it answers false and the caller
    # takes the exclusive lock, which waits for every shared holder to commit before it counts.
    """CREATE OR REPLACE FUNCTION intake_admit(k text, lim int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
    DECLARE room int;
    BEGIN
        IF lim IS NULL THEN RETURN true; END IF;
        room = lim - current_setting('max_connections')::int;
        IF room <= 0 THEN RETURN false; END IF;
        PERFORM pg_advisory_xact_lock_shared(hashtext(k));
        RETURN (SELECT count(*) FROM (SELECT 1 FROM intake WHERE key_id = k AND status IN ('PENDING', 'IN_PROGRESS')
                LIMIT room) s) < room;
    END $$""",
    # The webhook delivery state (core.jobstate.WebhookState), copied here next to the run's labels so the status
    # of a finished job never reads Prefect (core.intake_webhooks); NULL until the first delivery write.
    "ALTER TABLE intake ADD COLUMN webhook_state jsonb",
    # the reconciler's list of copies never written (core.intake_webhooks.uncopied): rows of an older release
    "CREATE INDEX intake_webhook_uncopied ON intake (seq) WHERE webhook AND record IS NOT NULL "
    "AND flow_run_id IS NOT NULL AND webhook_state IS NULL",
)


class IntakeNotConfigured(ReelflowError):
    """No database for the intake: neither REELFLOW_INTAKE_URL nor REELFLOW_DATABASE_URL is set."""


class IntakeDown(ReelflowError):
    """The intake database did not answer a hot-path statement (the API answers 503, as for SQLAlchemy's errors)."""


@asynccontextmanager
async def driver(engine: AsyncEngine, pool: asyncpg.Pool | None) -> AsyncIterator[Any]:
    """An asyncpg connection for the API's hot paths: one statement is one round trip, where SQLAlchemy would wrap
    it in BEGIN and ROLLBACK (three) and spend ~0.6 ms of CPU on its pool per checkout. From ``pool`` (the API's,
    ``core.intake_db.hot_pool``) when given, else the engine's own connection."""
    try:
        if pool is not None:
            async with pool.acquire() as pg:
                yield pg
        else:
            async with engine.connect() as conn:
                yield (await conn.get_raw_connection()).driver_connection
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise IntakeDown(f"the intake database failed: {exc}") from exc


def intake_url(settings: Settings) -> str:
    """The intake database's SQLAlchemy URL (asyncpg driver)."""
    if settings.intake_url is not None and settings.intake_url.get_secret_value():
        url = settings.intake_url.get_secret_value()
    elif settings.database_url is not None and settings.database_url.get_secret_value():
        url = sibling_url(settings.database_url.get_secret_value(), settings.intake_database)
    else:
        raise IntakeNotConfigured("the intake database is not configured: set REELFLOW_DATABASE_URL (or "
                                  "REELFLOW_INTAKE_URL), or start the service with `reelflow serve`")
    return url.replace("postgresql://", "postgresql+asyncpg://", 1).replace("+psycopg", "+asyncpg", 1)


def engine_for(url: str, *, pooled: bool = True) -> AsyncEngine:
    """An async engine; ``pooled=False`` for short-lived callers (a flow's hook) that must not keep connections."""
    if pooled:
        # no pre-ping: it would cost a round trip per request; a dead connection fails one request with a 503
        return create_async_engine(url, pool_size=10, max_overflow=20)
    return create_async_engine(url, poolclass=NullPool)


async def hot_pool(url: str, size: int = HOT_POOL) -> asyncpg.Pool:
    """The API's raw asyncpg pool for creates and status reads, its connections opened up front: a connection
    opened under load costs a backend fork and a handshake while a caller waits (jsonb travels as text, as with
    the engine)."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
    assert pool is not None
    return pool


async def ensure_database(url: str) -> None:
    """Create the intake's database on its server if it does not exist (two starters at once are fine)."""
    target = make_url(url)
    admin = engine_for(target.set(database="postgres").render_as_string(hide_password=False), pooled=False)
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if not exists:
                with contextlib.suppress(ProgrammingError, DBAPIError):  # created by another starter meanwhile
                    await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()


async def migrate(engine: AsyncEngine, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Apply the migrations not yet recorded; the schema version afterwards. (``migrations`` is for tests that
    build a database as an older release left it: a prefix of :data:`MIGRATIONS`.)"""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        await conn.execute(text("CREATE TABLE IF NOT EXISTS intake_schema (version int PRIMARY KEY, "
                                "applied timestamptz NOT NULL DEFAULT now())"))
        done = int(await conn.scalar(text("SELECT coalesce(max(version), 0) FROM intake_schema")) or 0)
        for version, statement in enumerate(migrations[done:], start=done + 1):
            await conn.execute(text(statement))
            await conn.execute(text("INSERT INTO intake_schema (version) VALUES (:v)"), {"v": version})
    return len(migrations)


def sibling_url(server_url: str, database: str) -> str:
    """The URL of ``database`` on the server of ``server_url`` (Prefect's), for the intake."""
    url = make_url(server_url).set(database=database).render_as_string(hide_password=False)
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def setup(url: str) -> int:
    """Create and migrate the intake database once (the supervisor, before any child uses it)."""
    await ensure_database(url)
    engine = engine_for(url, pooled=False)
    try:
        return await migrate(engine)
    finally:
        await engine.dispose()


async def prepare(url: str) -> AsyncEngine:
    """Database created, schema migrated: the pooled engine a long-running process uses."""
    await ensure_database(url)
    engine = engine_for(url)
    await migrate(engine)
    return engine


def call_sync(url: str, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` on a fresh unpooled engine from synchronous code (flow hooks, the batch flow, the supervisor).

    It runs in a thread of its own, so it works whether or not the caller's thread already has an event loop.
    """
    async def go() -> T:
        engine = engine_for(url, pooled=False)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()
