"""A burst of 1,000 creates at concurrency 50 while the Prefect server is killed and restarted in the middle.

Its own stack (the admission limit raised to let one key hold 1,000 jobs, and the runner held still so the jobs
wait instead of rendering: ``frozen_runner``). Every create must answer 200 — also while Prefect is down — with 1,000
distinct request ids; the dispatcher must turn each into exactly one flow run (none lost, none duplicated, found
by the request id each run carries); then every request is cancelled and must reach a terminal state.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.secrets import key_id
from tests.e2e.conftest import narrative_body, wait_for
from tests.e2e.stack import Stack, frozen_runner, start_stack

# Deadlines, not speed checks: the waits poll and return as soon as the state is reached. The dispatcher drains
# at the rate Prefect creates runs, which on a 2-core machine shared with another worker (make test runs two) or
# other load can be a few runs a second: 300 s for 1,000 runs failed once at load average 22.
DRAIN_TIMEOUT, TERMINAL_TIMEOUT = 900, 600
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]
KEY = "burst-key-0123456789abcdef"
TOTAL, CONCURRENCY, KILL_AFTER = 1000, 50, 250
ENV = {"REELFLOW_API_KEYS": KEY, "REELFLOW_MAX_ACTIVE_PER_KEY": "5000"}


@pytest.fixture(scope="module")
def burst_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with start_stack(tmp_path_factory.mktemp("burst"), ENV) as stack, frozen_runner(stack.data_dir):
        yield stack


def kill_prefect(stack: Stack) -> None:
    """SIGKILL the Prefect server's whole process group, as a crash would; the supervisor restarts it."""
    pid = int((stack.data_dir / "run" / "prefect.pid").read_text())
    os.killpg(pid, signal.SIGKILL)


def prefect_up(stack: Stack) -> bool:
    try:
        return httpx.get(f"{stack.prefect_api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def burst(stack: Stack, on_count: Any) -> list[tuple[int, str, float]]:
    """TOTAL creates from CONCURRENCY clients; (status code, request id, finish time) of each."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(TOTAL):
        queue.put_nowait(n)
    answers: list[tuple[int, str, float]] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=stack.api_url, headers={"API_KEY": KEY}, timeout=60) as http:
            while not queue.empty():
                n = queue.get_nowait()
                response = await http.post("/v1/video/create_narrative",
                                           json=narrative_body([f"Burst line number {n}."]))
                answers.append((response.status_code, response.json().get("request_id", response.text),
                                time.monotonic()))
                on_count(len(answers))

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return answers


def count_runs(stack: Stack) -> int:
    """How many flow runs carry the burst key's tag (one cheap count while the dispatcher drains)."""
    return int(httpx.post(f"{stack.prefect_api_url}/flow_runs/count", timeout=60, json={
        "flow_runs": {"tags": {"all_": [f"key:{key_id(KEY)}"]}}}).raise_for_status().json())


def runs_of_key(stack: Stack) -> list[dict[str, Any]]:
    """Every flow run tagged with the burst key, paged from Prefect's own API."""
    runs: list[dict[str, Any]] = []
    while True:
        page = httpx.post(f"{stack.prefect_api_url}/flow_runs/filter", timeout=60, json={
            "flow_runs": {"tags": {"all_": [f"key:{key_id(KEY)}"]}}, "limit": 200, "offset": len(runs),
            "sort": "ID_DESC"}).raise_for_status().json()
        runs += page
        if len(page) < 200:
            return runs


def test_a_thousand_creates_survive_a_prefect_restart_and_each_becomes_exactly_one_run(burst_stack: Stack) -> None:
    stack = burst_stack
    killed: dict[str, float] = {}

    def on_count(count: int) -> None:
        if count == KILL_AFTER and not killed:
            kill_prefect(stack)
            killed["at"] = time.monotonic()

    back: list[float] = []
    watcher = threading.Thread(target=lambda: back.append(wait_for(
        lambda: "at" in killed and prefect_up(stack) and time.monotonic(), "Prefect to come back", 300)))
    watcher.start()
    answers = asyncio.run(burst(stack, on_count))
    watcher.join()
    codes = Counter(code for code, _, _ in answers)
    assert codes == {200: TOTAL}, codes
    ids = [request_id for _, request_id, _ in answers]
    assert len(set(ids)) == TOTAL
    down = [t for _, _, t in answers if killed["at"] < t < back[0]]
    assert down, "creates kept answering 200 while Prefect was down"

    wait_for(lambda: count_runs(stack) >= TOTAL, "every request to become a flow run", timeout=DRAIN_TIMEOUT)
    runs = runs_of_key(stack)
    per_request = Counter(run["labels"].get("reelflow.request_id") for run in runs)
    assert set(per_request) == set(ids), "no request lost, no stranger"
    assert max(per_request.values()) == 1, "no request has two runs"
    assert all(f"request:{run['labels']['reelflow.request_id']}" in run["tags"] for run in runs)
    assert all(run["name"].startswith(run["labels"]["reelflow.request_id"][:8]) for run in runs)

    async def cancel_everything() -> None:
        slots = asyncio.Semaphore(CONCURRENCY)
        async with httpx.AsyncClient(base_url=stack.api_url, headers={"API_KEY": KEY}, timeout=60) as http:
            async def cancel(request_id: str) -> None:
                async with slots:
                    response = await http.post("/v1/video/cancel", params={"request_id": request_id})
                    assert response.status_code in (200, 409), response.text
            await asyncio.gather(*(cancel(i) for i in ids))

    asyncio.run(cancel_everything())

    def terminal_count() -> int:
        """Requests listed in a terminal status (the filter reads terminal records only: Prefect is not asked)."""
        count = 0
        for status in ("CANCELLED", "COMPLETED", "FAILED"):
            cursor = None
            while True:
                params: dict[str, Any] = {"limit": 200, "status": status, **({"cursor": cursor} if cursor else {})}
                page = httpx.get(f"{stack.api_url}/v1/video/requests", params=params, headers={"API_KEY": KEY},
                                 timeout=60).raise_for_status().json()
                count += len(page["requests"])
                if (cursor := page["next_cursor"]) is None:
                    break
        return count

    wait_for(lambda: terminal_count() == TOTAL, "every request to reach a terminal state", timeout=TERMINAL_TIMEOUT)
