"""The intake on the session stack: a key lists exactly its own requests, pages stay stable while new ones arrive,
a key past ``REELFLOW_MAX_ACTIVE_PER_KEY`` (default 20) gets a 429 with ``Retry-After`` until a job ends, and the
versioned migrations build a fresh database and upgrade one an older release left, keeping its rows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core import intake, intake_webhooks
from core.intake_db import MIGRATIONS, engine_for, ensure_database, migrate, sibling_url
from tests.e2e.conftest import KEY_A, KEY_LIMIT, KEY_LIST, narrative_body, wait_for
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
BODY = narrative_body(["A short probe of the queue."])


def create(client: httpx.Client) -> str:
    response = client.post("/v1/video/create_narrative", json=BODY)
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def listing(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/video/requests", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def cancel_all(client: httpx.Client, ids: list[str]) -> None:
    for request_id in ids:
        assert client.post("/v1/video/cancel", params={"request_id": request_id}).status_code in (200, 409)


def test_listing_shows_only_the_callers_requests_newest_first_with_stable_pages(stack: Stack) -> None:
    with httpx.Client(base_url=stack.api_url, headers={"API_KEY": KEY_LIST}, timeout=30) as mine, \
            httpx.Client(base_url=stack.api_url, headers={"API_KEY": KEY_A}, timeout=30) as other:
        theirs = create(other)
        first = [create(mine) for _ in range(5)]
        page = listing(mine, limit=2)
        seen = [item["request_id"] for item in page["requests"]]
        arrived = [create(mine) for _ in range(2)]  # new requests while the caller pages
        while page["next_cursor"] is not None:
            page = listing(mine, limit=2, cursor=page["next_cursor"])
            seen += [item["request_id"] for item in page["requests"]]
        assert seen == list(reversed(first)), "every older request exactly once, newest first, none of the new"
        everything = listing(mine, limit=50)
        assert [i["request_id"] for i in everything["requests"]] == list(reversed(first + arrived))
        assert everything["next_cursor"] is None
        assert theirs not in {i["request_id"] for i in everything["requests"]}
        item = everything["requests"][0]
        assert set(item) == {"request_id", "kind", "status", "progress", "created"}
        assert item["kind"] == "narrative"
        assert item["status"] in ("PENDING", "IN_PROGRESS")

        cancel_all(mine, first + arrived)
        cancel_all(other, [theirs])
        def all_cancelled() -> list[dict[str, Any]]:
            got = listing(mine, status="CANCELLED", limit=50)["requests"]
            return got if len(got) == 7 else []

        cancelled = wait_for(all_cancelled, "the cancelled requests to be listed as CANCELLED")
        assert {i["request_id"] for i in cancelled} == set(first + arrived)
        assert listing(mine, status="PENDING")["requests"] == []


@pytest.mark.parametrize(("params", "message"), [
    ({"status": "DONE"}, "status: must be one of PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELLED."),
    ({"limit": "0"}, "limit: must be a whole number from 1 to 200."),
    ({"cursor": "abc"}, "cursor: must be a whole number"),
])
def test_listing_rejects_bad_parameters_with_a_message(api: httpx.Client, params: dict[str, str],
                                                       message: str) -> None:
    response = api.get("/v1/video/requests", params=params)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_a_key_past_its_active_limit_gets_429_with_retry_after(stack: Stack) -> None:
    with httpx.Client(base_url=stack.api_url, headers={"API_KEY": KEY_LIMIT}, timeout=30) as client:
        admitted = [create(client) for _ in range(20)]
        refused = client.post("/v1/video/create_narrative", json=BODY)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert "REELFLOW_MAX_ACTIVE_PER_KEY" in refused.json()["message"]
        cancel_all(client, admitted[:1])

        def admitted_again() -> str | None:
            response = client.post("/v1/video/create_narrative", json=BODY)
            assert response.status_code in (200, 429), response.text
            return str(response.json()["request_id"]) if response.status_code == 200 else None

        admitted.append(wait_for(admitted_again, "a create to be admitted once one job ended", timeout=60))
        cancel_all(client, admitted)


BEFORE_WEBHOOK_STATE = 6  # the schema version before the webhook delivery state's copy (migrations 7 and 8)


@pytest.mark.parametrize("older", [0, BEFORE_WEBHOOK_STATE], ids=["fresh", "before-webhook-state"])
def test_migrations_build_or_upgrade_a_database_and_keep_its_rows(stack: Stack, older: int) -> None:
    asyncio.run(migrations_on_a_new_database(stack.intake_url, older))


async def migrations_on_a_new_database(stack_intake: str, older: int) -> None:
    """A database of its own on the stack's server: migrated to version ``older`` with a finished job in it (an
    older release's), then to the current version twice (the second time a no-op), then dropped."""
    url = sibling_url(stack_intake, f"intake_migration_{uuid.uuid4().hex[:12]}")
    await ensure_database(url)
    engine = engine_for(url, pooled=False)
    try:
        request_id = None
        if older:
            assert await migrate(engine, MIGRATIONS[:older]) == older
            request_id = await finished_job(engine)
        assert await migrate(engine) == len(MIGRATIONS)
        assert await migrate(engine) == len(MIGRATIONS)
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version FROM intake_schema ORDER BY version"))).scalars()
            assert list(versions) == list(range(1, len(MIGRATIONS) + 1))  # each applied exactly once
        if request_id is None:
            request_id = await finished_job(engine)
        found = await intake.read_queued(engine, request_id, "k")
        assert found is not None
        row, _ = found
        assert row.record == {"status": "COMPLETED"}  # the row as it was
        assert row.webhook_state is None  # no delivery state copied yet
        flow_run_id = str(uuid.uuid4())
        await intake.dispatched(engine, request_id, flow_run_id)
        assert await intake_webhooks.uncopied(engine, 10) == [(request_id, flow_run_id)]  # for the reconciler
        await intake_webhooks.merge(engine, request_id, {"status": "pending", "attempts": 1, "lease": 9})
        await intake_webhooks.merge(engine, request_id, {"status": "delivered", "last_error": ""})
        copy = {"status": "delivered", "attempts": 1, "last_error": ""}
        assert await webhook_copy(engine, request_id) == copy
        assert await intake_webhooks.uncopied(engine, 10) == []
        state = {"status": "failed", "attempts": 2, "last_error": "http 5xx"}
        assert not await intake_webhooks.repair(engine, request_id, state, seen=None)  # not the copy it read
        assert await webhook_copy(engine, request_id) == copy
        assert await intake_webhooks.repair(engine, request_id, state, seen=copy)
        assert await webhook_copy(engine, request_id) == state
    finally:
        await engine.dispose()
        await drop_database(url)


async def webhook_copy(engine: AsyncEngine, request_id: str) -> dict[str, Any] | None:
    found = await intake.read_queued(engine, request_id, "k")
    assert found is not None
    return found[0].webhook_state


async def finished_job(engine: AsyncEngine) -> str:
    request_id, _ = await intake.submit(engine, key_id="k", kind="narrative/reelflow-narrative", parameters={},
                                        idempotency=None, webhook=True, limit=None)
    await intake.record(engine, request_id, "COMPLETED", {"status": "COMPLETED"})
    return request_id


async def drop_database(url: str) -> None:
    name = make_url(url).database
    admin = engine_for(sibling_url(url, "postgres"), pooled=False)
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
