"""The intake on the session stack: a key lists exactly its own requests, pages stay stable while new ones arrive,
and a key past ``REELFLOW_MAX_ACTIVE_PER_KEY`` (default 20) gets a 429 with ``Retry-After`` until a job ends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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
