"""Terminal webhooks through the real stack: signed, retried, durable; and crash recovery of a killed runner."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from adapter import auth
from adapter.http import create_app
from core.jobstate import WEBHOOK_PENDING_TAG as PENDING_TAG
from core.jobstate import WEBHOOK_PREFIX
from core.settings import get_settings
from tests.e2e.conftest import (
    FAIL_MARKER,
    KEY_A,
    SECRET_A,
    SECRET_B,
    STACK_ENV,
    flow_run_id,
    narrative_body,
    poll,
    recorded,
    terminal,
    wait_for,
)
from tests.e2e.receiver import HOLD, Receiver, running
from tests.e2e.stack import Stack, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver(SECRET_A)) as r:
        yield r


def create(api: httpx.Client, lines: list[str], url: str) -> str:
    response = api.post("/v1/video/create_narrative", json={**narrative_body(lines), "webhookUrl": url})
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def webhook_settled(api: httpx.Client, request_id: str) -> dict[str, Any]:
    return poll(api, request_id, lambda b: terminal(b) and b.get("webhook", {}).get("status") in ("delivered",
                                                                                                  "failed"))


def test_completed_job_delivers_one_verified_callback_matching_status(api: httpx.Client, receiver: Receiver) -> None:
    request_id = create(api, ["A kite rises over the dunes.", "The wind carries it away."], receiver.url)
    status = webhook_settled(api, request_id)
    assert status["webhook"] == {"status": "delivered", "attempts": 1, "last_error": None}
    accepted = receiver.accepted(request_id, "COMPLETED")
    assert len(accepted) == 1, receiver.deliveries
    delivery = accepted[0]
    assert delivery.verified and delivery.headers["webhook-id"].startswith("msg_")  # with key A's own secret
    with pytest.raises(WebhookVerificationError):  # and not with key B's: B cannot forge A's callbacks, nor A B's
        Webhook(SECRET_B).verify(delivery.body, delivery.headers)
    payload = delivery.payload
    for key in ("request_id", "status", "progress", "message", "stage", "details"):
        assert payload[key] == status[key], key
    assert payload["result"]["duration"] == status["result"]["duration"]
    assert payload["result"]["videoUrl"].split("?")[0] == status["result"]["videoUrl"].split("?")[0]
    assert httpx.get(payload["result"]["videoUrl"]).status_code == 200
    progress = [d.payload for d in receiver.for_request(request_id) if d.payload["status"] == "IN_PROGRESS"]
    stages = [p["stage"] for p in progress]
    assert len(stages) == len(set(stages)), "at most one progress callback per stage"
    assert all(d.verified for d in receiver.for_request(request_id))


def test_retries_after_5xx_keep_the_same_webhook_id(api: httpx.Client, stack: Stack, receiver: Receiver,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    receiver.script[:] = [500, 500, 200]
    request_id = create(api, ["A single candle in a dark room."], receiver.url)
    status = webhook_settled(api, request_id)
    assert status["webhook"] == {"status": "delivered", "attempts": 3, "last_error": None}
    attempts = [d for d in receiver.for_request(request_id) if d.payload["status"] == "COMPLETED"]
    assert [d.answered for d in attempts] == [500, 500, 200]
    assert len({d.headers["webhook-id"] for d in attempts}) == 1
    assert len(receiver.accepted(request_id, "COMPLETED")) == 1
    labels = stack.flow_run_of(request_id)["labels"]  # the run's labels (the UI's) say the same as /status
    assert labels[f"{WEBHOOK_PREFIX}status"] == "delivered"
    assert labels[f"{WEBHOOK_PREFIX}attempts"] == 3
    # The status of a finished job, webhook included, is read from the intake alone: an API whose Prefect is a
    # port nobody listens on answers it exactly as the stack's own API does.
    with api_without_prefect(stack, monkeypatch) as offline:
        response = offline.get("/v1/video/status", params={"request_id": request_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["webhook"] == status["webhook"]
    for key in ("request_id", "status", "progress", "stage", "details", "message"):
        assert body[key] == status[key], key
    assert urlsplit(body["result"]["videoUrl"]).path == urlsplit(status["result"]["videoUrl"]).path


@pytest.mark.parametrize("missed", ["last-write", "never-written"])
def test_reconciler_repairs_a_delivery_state_the_intake_missed(api: httpx.Client, stack: Stack,
                                                               receiver: Receiver, missed: str) -> None:
    request_id = create(api, ["A heron stands in the reeds."], receiver.url)
    assert webhook_settled(api, request_id)["webhook"] == {"status": "delivered", "attempts": 1, "last_error": None}
    if missed == "last-write":
        # What a delivery leaves behind when its last copy to the intake failed: the row's copy one write behind
        # the labels, and the run still tagged as owing its callback (flows.webhooks._finish keeps the tag then).
        asyncio.run(set_webhook_copy(stack.intake_url, request_id, {"status": "pending", "attempts": 1}))
        behind = api.get("/v1/video/status", params={"request_id": request_id}).json()
        assert behind["webhook"] == {"status": "pending", "attempts": 1, "last_error": None}
        run = stack.flow_run_of(request_id)
        httpx.patch(f"{stack.prefect_api_url}/flow_runs/{run['id']}", timeout=10,
                    json={"tags": [*run["tags"], PENDING_TAG]}).raise_for_status()
    else:  # a job an older release finished, before the copy existed; the reconciler backfills it
        asyncio.run(set_webhook_copy(stack.intake_url, request_id, None))
    repaired = poll(api, request_id, lambda b: b["webhook"]["status"] == "delivered")
    assert repaired["webhook"] == {"status": "delivered", "attempts": 1, "last_error": None}
    wait_for(lambda: PENDING_TAG not in job_tags(stack, request_id), "the reconciler to drop the pending tag")
    assert len(receiver.accepted(request_id, "COMPLETED")) == 1  # repaired, not delivered again


async def set_webhook_copy(intake_url: str, request_id: str, state: dict[str, Any] | None) -> None:
    conn = await asyncpg.connect(intake_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("UPDATE intake SET webhook_state = $2::jsonb WHERE request_id = $1::uuid", request_id,
                           None if state is None else json.dumps(state))
    finally:
        await conn.close()


@contextmanager
def api_without_prefect(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API app in-process on the stack's intake and media, its Prefect server a port nobody listens on."""
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    monkeypatch.setenv("REELFLOW_INTAKE_URL", stack.intake_url)
    monkeypatch.setenv("REELFLOW_DATA_DIR", str(stack.data_dir))
    for name in ("REELFLOW_API_KEYS", "REELFLOW_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, STACK_ENV[name])
    get_settings.cache_clear()
    auth._known_keys.cache_clear()
    try:
        with TestClient(create_app(), headers={"API_KEY": KEY_A}) as client:
            yield client
    finally:
        auth._known_keys.cache_clear()


def test_receiver_down_at_the_end_then_up_gets_it(api: httpx.Client) -> None:
    with socket.socket() as s:  # a port nobody listens on yet
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    late = Receiver(SECRET_A, port=port)
    request_id = create(api, ["A lantern waits on the pier."], late.url)
    first = poll(api, request_id, lambda b: terminal(b) and b.get("webhook", {}).get("last_error") is not None)
    assert first["webhook"]["last_error"] == "unreachable"  # a generic word, not the socket error
    assert late.deliveries == []
    with running(late):
        status = webhook_settled(api, request_id)
        assert status["webhook"]["status"] == "delivered"
        assert status["webhook"]["attempts"] > 1  # the first attempt(s) found nobody listening
        assert len(late.accepted(request_id, "COMPLETED")) == 1


def test_failed_job_sends_a_failed_callback_with_the_reason(api: httpx.Client, receiver: Receiver) -> None:
    request_id = create(api, ["A calm opening line.", f"This scene cannot be drawn {FAIL_MARKER}."], receiver.url)
    status = webhook_settled(api, request_id)
    assert status["status"] == "FAILED"
    assert "image_generation failed for scene 2" in status["message"]
    [delivery] = receiver.accepted(request_id, "FAILED")
    assert delivery.payload["message"] == status["message"] and "injected fault" in delivery.payload["message"]
    assert "result" not in delivery.payload or delivery.payload["result"] is None


def task_run_states(stack: Stack, request_id: str) -> list[tuple[str, str]]:
    """(name, state) of every task run of the job, across all its attempts, read from Prefect's REST API."""
    response = httpx.post(f"{stack.prefect_api_url}/task_runs/filter",
                          json={"flow_runs": {"id": {"any_": [flow_run_id(stack, request_id)]}}, "limit": 200})
    response.raise_for_status()
    return [(run["name"], run["state"]["name"]) for run in response.json() if run.get("state")]


def test_killed_runner_job_is_requeued_resumes_and_calls_back_once(api: httpx.Client, stack: Stack,
                                                                    receiver: Receiver) -> None:
    lines = [f"Scene {i}: the night train crosses a silver bridge over the fjord." for i in range(1, 7)]
    request_id = create(api, lines, receiver.url)
    before = poll(api, request_id, lambda b: b.get("details", {}).get("speech_generation") == "COMPLETED"
                  and b.get("details", {}).get("image_generation") == "COMPLETED" or terminal(b))
    assert not terminal(before), "the job ended before the runner could be killed mid-render"
    runner = int((stack.data_dir / "run" / "runner.pid").read_text())
    os.killpg(runner, signal.SIGKILL)  # the runner and the flow process it started, mid-render
    body = webhook_settled(api, request_id)
    assert body["status"] == "COMPLETED", body
    states = recorded(lambda: task_run_states(stack, request_id), lambda found: all(
        sum(1 for name, state in found if name.startswith(prefix) and state == "Cached") == 6
        for prefix in ("image-", "voice-")))
    for prefix in ("image-", "voice-"):
        done = [name for name, state in states if name.startswith(prefix) and state == "Completed"]
        assert sorted(done) == sorted(f"{prefix}{i}" for i in range(1, 7)), states  # each generated exactly once
        assert sum(1 for n, s in states if n.startswith(prefix) and s == "Cached") == 6, states  # reused on rerun
    assert len(receiver.accepted(request_id, "COMPLETED")) == 1


def test_runner_killed_while_the_receiver_holds_the_post_delivers_once_more(api: httpx.Client, stack: Stack,
                                                                           receiver: Receiver) -> None:
    receiver.script[:] = [HOLD]  # the first terminal POST is held open, never answered
    request_id = create(api, ["A gull hangs in the wind."], receiver.url)
    held = wait_for(lambda: [d for d in receiver.for_request(request_id) if d.answered == 0], "the held POST")
    runner = int((stack.data_dir / "run" / "runner.pid").read_text())
    os.killpg(runner, signal.SIGKILL)  # the delivery dies mid-POST; the supervisor starts a new runner
    receiver.release.set()
    status = webhook_settled(api, request_id)
    assert status["webhook"]["status"] == "delivered", status
    assert status["webhook"]["attempts"] == 2  # the lost attempt counts; the re-queued one is the next
    [delivered] = receiver.accepted(request_id, "COMPLETED")
    assert delivered.headers["webhook-id"] == held[0].headers["webhook-id"]
    terminal_posts = [d for d in receiver.for_request(request_id) if d.payload["status"] != "IN_PROGRESS"]
    assert len(terminal_posts) == 2  # the held one and exactly one more
    assert "webhook-pending" not in job_tags(stack, request_id)  # the job no longer owes its callback


def job_tags(stack: Stack, request_id: str) -> list[str]:
    return list(stack.flow_run_of(request_id)["tags"])
