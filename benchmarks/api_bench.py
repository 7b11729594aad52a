"""API latency and intake drain against bare Prefect, in one run on one stack (issue 13).

Three measurements, each with 50 concurrent clients on the idle stack (one keep-alive connection each, through
the lean client of :mod:`benchmarks.loadgen` on both sides, so the generator does not eat the CPU it measures),
the runner held still (``tests.e2e.stack.frozen_runner``: pausing the deployment does not stop Prefect's runner from
running runs created by hand) so created jobs wait instead of loading the two cores with renders (this measures
the API, the intake and Prefect, not ffmpeg):

1. **bare Prefect**: each client does 10 × (``POST /deployments/{id}/create_flow_run``, ``GET /flow_runs/{id}``)
   straight on Prefect's API — the floor any API in front of Prefect is compared with; then 10 creates only,
   which gives Prefect's create rate.
2. **our API**: each client does 10 × (``create_narrative``, ``status`` of that request).
3. **dispatcher drain**: ``DRAIN`` jobs are committed to the intake at once (the same ``core.intake.submit`` the
   API calls); the drain rate is jobs / (last − first dispatch time), read from the rows, and is compared with the
   bare create rate of step 1.

Between the phases, what the last one made is deleted (Prefect's runs) or cancelled (our requests) and the stack
is left to settle until its processes are idle (:func:`_settle`): a phase must not pay for the previous one's
thousand runs (Prefect's late-runs service marks every waiting run ``Late``, one state change each), and the bare
create rate and the drain rate are then measured on a server in the same state. Figures are printed, never
asserted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.loadgen import Connection, HttpError

CLIENTS = 50
PER_CLIENT = 10
DRAIN = 500
BODY = {"input": {"prompt_list": ["A latency probe."], "image_model": "FLUX1.1PRO"}}
MS = 1000.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _summary(name: str, values: list[float]) -> dict[str, float]:
    return {f"{name}_p50_ms": round(statistics.median(values) * MS, 1),
            f"{name}_p99_ms": round(_pct(values, .99) * MS, 1)}


async def _everyone(client: Callable[[], Awaitable[None]]) -> float:
    """Run CLIENTS copies of ``client`` at once; the wall time."""
    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(CLIENTS))), timeout=900)
    return time.perf_counter() - start


def _stack_cpu() -> float:
    """CPU seconds the stack's processes (Prefect server, API, dispatcher, PostgreSQL...) have spent so far."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(int(os.environ["REELFLOW_BENCH_STACK_PID"]))
        procs = [root, *root.children(recursive=True)]
    except (KeyError, psutil.Error):
        return 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _settle(clean: Callable[[], None], quiet: float = 0.15, timeout: float = 180.0) -> float:
    """Clean up after a phase, then wait until the stack uses under ``quiet`` of a core over 2 s; seconds waited."""
    clean()
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = _stack_cpu()
        time.sleep(2.0)
        if (_stack_cpu() - before) / 2.0 < quiet:
            break
    return round(time.monotonic() - start, 1)


def _bare_prefect(prefect_api: str, deployment: str, made: list[str], settle: Callable[[], float]
                  ) -> dict[str, float]:
    creates: list[float] = []
    reads: list[float] = []
    only: list[float] = []
    body = {"parameters": {"request": {"input": {**BODY["input"], "aspect_ratio": "16:9"}}}, "tags": ["bench"]}

    errors: list[str] = []

    async def create_then_read() -> None:
        async with Connection(prefect_api) as http:
            for _ in range(PER_CLIENT):
                try:
                    run = await http.timed(creates, "POST", f"/deployments/{deployment}/create_flow_run",
                                           json_body=body)
                    made.append(run["id"])
                    await http.timed(reads, "GET", f"/flow_runs/{run['id']}")
                except HttpError as exc:  # an overloaded Prefect answers 500 now and then: counted, not fatal
                    errors.append(str(exc))

    async def create_only() -> None:
        async with Connection(prefect_api) as http:
            for _ in range(PER_CLIENT):
                try:
                    run = await http.timed(only, "POST", f"/deployments/{deployment}/create_flow_run",
                                           json_body=body)
                    made.append(run["id"])
                except HttpError as exc:
                    errors.append(str(exc))

    asyncio.run(_everyone(create_then_read))
    settle()
    wall = asyncio.run(_everyone(create_only))
    return {**_summary("create", creates), **_summary("read", reads), "creates_per_s": round(len(only) / wall, 1),
            "errors": len(errors)}


def _our_api(api: str, key: str, made: list[str]) -> dict[str, float]:
    creates: list[float] = []
    statuses: list[float] = []

    errors: list[str] = []

    async def client() -> None:
        async with Connection(api, {"API_KEY": key}) as http:
            for _ in range(PER_CLIENT):
                try:
                    request_id = (await http.timed(creates, "POST", "/v1/video/create_narrative",
                                                   json_body=BODY))["request_id"]
                    made.append(request_id)
                    await http.timed(statuses, "GET", "/v1/video/status", params={"request_id": request_id})
                except HttpError as exc:
                    errors.append(str(exc))

    wall = asyncio.run(_everyone(client))
    return {**_summary("create", creates), **_summary("status", statuses),
            "creates_per_s": round(len(creates) / wall, 1), "errors": len(errors)}


def _drain(intake_url: str, owner: str, made: list[str]) -> dict[str, float]:
    """Commit DRAIN jobs at once, wait until the dispatcher has created every run; dispatches per second."""
    from sqlalchemy import text

    from core import intake
    from core.intake_db import engine_for

    async def run() -> dict[str, float]:
        engine = engine_for(intake_url)
        try:
            for _ in range(DRAIN):
                request_id, _ = await intake.submit(engine, key_id=owner, kind="narrative/reelflow-narrative",
                                                    parameters={"request": BODY}, idempotency=None, webhook=False,
                                                    limit=None)
                made.append(request_id)
            deadline = time.monotonic() + 600
            query = text("SELECT count(*), min(dispatched), max(dispatched) FROM intake "
                         "WHERE request_id = ANY(CAST(:ids AS uuid[])) AND dispatched IS NOT NULL")
            while True:
                async with engine.connect() as conn:
                    count, first, last = (await conn.execute(query, {"ids": made[-DRAIN:]})).one()
                if count == DRAIN:
                    return {"jobs": DRAIN, "dispatched_per_s": round((DRAIN - 1) / (last - first).total_seconds(), 1)}
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {count} of {DRAIN} jobs were dispatched within 10 minutes")
                await asyncio.sleep(0.2)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _deployment(prefect_api: str) -> str:
    return str(httpx.get(f"{prefect_api}/deployments/name/narrative/reelflow-narrative").json()["id"])


def _clean(prefect_api: str, api: str, key: str, runs: list[str], requests: list[str]) -> None:
    async def go() -> None:
        slots = asyncio.Semaphore(20)
        async with httpx.AsyncClient(timeout=120) as http:
            async def one(method: str, url: str, **kw: Any) -> None:
                async with slots:
                    await http.request(method, url, **kw)
            await asyncio.gather(*(one("DELETE", f"{prefect_api}/flow_runs/{run}") for run in runs),
                                 *(one("POST", f"{api}/v1/video/cancel", params={"request_id": r},
                                       headers={"API_KEY": key}) for r in requests))
    asyncio.run(go())


def intake_url_of(data_dir: Path) -> str:
    """The embedded stack's intake database (what ``reelflow serve`` passes its children)."""
    from adapter.embedded_pg import cluster_dir, database_url, pg_account, socket_dir_for
    from core.intake_db import sibling_url

    # as the supervisor finds it: as root the cluster may live in the private home, not under the data dir
    return sibling_url(database_url(socket_dir_for(cluster_dir(data_dir, pg_account()))), "reelflow")


def main() -> dict[str, Any]:
    from core.secrets import key_id

    api, key = os.environ["REELFLOW_BENCH_API_URL"], os.environ["REELFLOW_BENCH_API_KEY"]
    prefect_api = os.environ["PREFECT_API_URL"]
    data_dir = Path(os.environ["REELFLOW_BENCH_DATA_DIR"])
    runs: list[str] = []
    requests: list[str] = []
    from tests.e2e.stack import frozen_runner

    def settle() -> float:
        def clean() -> None:
            _clean(prefect_api, api, key, runs, requests)
            runs.clear()
            requests.clear()
        return _settle(clean)

    with frozen_runner(data_dir):
        try:
            bare = _bare_prefect(prefect_api, _deployment(prefect_api), runs, settle)
            settle()
            ours = _our_api(api, key, requests)
            settle()
            drain = _drain(intake_url_of(data_dir), key_id(key), requests)
        finally:
            _clean(prefect_api, api, key, runs, requests)
    return {"clients": CLIENTS, "requests_each": CLIENTS * PER_CLIENT, "bare_prefect": bare, "our_api": ours,
            "drain": drain,
            "ratios": {"create_p99_ours_vs_bare": round(ours["create_p99_ms"] / bare["create_p99_ms"], 3),
                       "status_p99_ours_vs_bare_read": round(ours["status_p99_ms"] / bare["read_p99_ms"], 3),
                       "drain_vs_bare_create_rate": round(drain["dispatched_per_s"] / bare["creates_per_s"], 2)}}
