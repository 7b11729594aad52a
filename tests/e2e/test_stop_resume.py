"""A stop is not a cancel: ``reelflow serve`` stopped mid-job (Ctrl-C, or SIGTERM) and started again on the same
data dir finishes the job, generating each still and voice once, with one COMPLETED callback and no CANCELLED.

Needs its own stack (it stops and restarts it). The rounds run one after the other on one data dir: each stops the
stack that is running and starts the next, so only the first start pays for a fresh cluster and Prefect's
migrations. Each round is one 8-scene narrative on the local renderers, its lines its own (nothing cached by the
round before).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KEY_A, SECRET_A, STACK_ENV, narrative_body, poll, recorded, terminal
from tests.e2e.receiver import Receiver, running
from tests.e2e.stack import Stack, start_stack

pytestmark = pytest.mark.e2e


def lines(round_name: str) -> list[str]:
    return [f"Scene {i}: a paper boat drifts past the {round_name} mill." for i in range(1, 9)]


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Stack]]:
    """The module's stacks, latest last: a round stops the latest and appends the one it starts on the same data
    dir. Whatever is still running at the end is stopped (a no-op for a stack a failed round already stopped)."""
    started = [start_stack(tmp_path_factory.mktemp("stop-resume"), STACK_ENV)]
    try:
        yield started
    finally:
        started[-1].stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver(SECRET_A)) as r:
        yield r


def task_runs(stack: Stack, request_id: str) -> list[tuple[str, str]]:
    run_id = stack.flow_run_of(request_id)["id"]
    response = httpx.post(f"{stack.prefect_api_url}/task_runs/filter",
                          json={"flow_runs": {"id": {"any_": [run_id]}}, "limit": 200})
    response.raise_for_status()
    return [(run["name"], run["state"]["name"]) for run in response.json() if run.get("state")]


def client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.api_url, headers={"API_KEY": KEY_A}, timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopped_mid_job_resumes_after_restart(stacks: list[Stack], receiver: Receiver, sig: signal.Signals) -> None:
    stack = stacks[-1]
    seen: list[dict[str, Any]] = []
    with client(stack) as api:
        response = api.post("/v1/video/create_narrative",
                            json={**narrative_body(lines(sig.name)), "webhookUrl": receiver.url})
        assert response.status_code == 200, response.text
        request_id = response.json()["request_id"]
        before = poll(api, request_id, lambda b: b["progress"] >= 25 or terminal(b), seen=seen)
        assert not terminal(before), "the job ended before the stack could be stopped"
    stack.stop(sig)  # raises if the stop hangs or leaves a process behind
    stacks.append(start_stack(stack.data_dir, STACK_ENV))
    with client(stacks[-1]) as api:
        body = poll(api, request_id, lambda b: terminal(b) and b.get("webhook", {}).get("status") == "delivered",
                    seen=seen)
        states = recorded(lambda: task_runs(stacks[-1], request_id), lambda found: all(
            sum(1 for name, state in found if name.startswith(prefix) and state == "Completed") == 8
            for prefix in ("image-", "voice-")) and any(state == "Cached" for _, state in found))
    assert body["status"] == "COMPLETED", body
    assert all(b["status"] != "CANCELLED" for b in seen)
    for prefix in ("image-", "voice-"):
        done = sorted(name for name, state in states if name.startswith(prefix) and state == "Completed")
        assert done == sorted(f"{prefix}{i}" for i in range(1, 9)), states  # each generated once in total
    assert any(state == "Cached" for _, state in states), states  # the rerun reused what was finished
    terminal_posts = [d for d in receiver.for_request(request_id) if d.payload["status"] != "IN_PROGRESS"]
    assert [d.payload["status"] for d in terminal_posts] == ["COMPLETED"]
    assert terminal_posts[0].verified
