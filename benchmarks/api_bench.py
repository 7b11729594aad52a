"""API latency: create and status with 50 concurrent clients against the idle stack (issue 3).

The narrative deployment is paused while measuring, so the created jobs wait as PENDING instead of loading the
two cores with renders: this measures the API and Prefect, not ffmpeg. The jobs are cancelled afterwards.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import httpx

CLIENTS = 50
PER_CLIENT = 10
BODY = {"input": {"prompt_list": ["A latency probe."], "image_model": "FLUX1.1PRO"}}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _client(api: str, key: str, created: list[str], creates: list[float], statuses: list[float]) -> None:
    async with httpx.AsyncClient(base_url=api, headers={"API_KEY": key}, timeout=60) as client:
        for _ in range(PER_CLIENT):
            start = time.perf_counter()
            response = await client.post("/v1/video/create_narrative", json=BODY)
            creates.append(time.perf_counter() - start)
            response.raise_for_status()
            request_id = response.json()["request_id"]
            created.append(request_id)
            start = time.perf_counter()
            (await client.get("/v1/video/status", params={"request_id": request_id})).raise_for_status()
            statuses.append(time.perf_counter() - start)


def _set_paused(prefect_api: str, paused: bool) -> str:
    deployment = httpx.get(f"{prefect_api}/deployments/name/narrative/reelflow-narrative").json()
    httpx.patch(f"{prefect_api}/deployments/{deployment['id']}", json={"paused": paused}).raise_for_status()
    return str(deployment["id"])


def main() -> dict[str, Any]:
    api, key = os.environ["REELFLOW_BENCH_API_URL"], os.environ["REELFLOW_BENCH_API_KEY"]
    prefect_api = os.environ["PREFECT_API_URL"]
    created: list[str] = []
    creates: list[float] = []
    statuses: list[float] = []
    _set_paused(prefect_api, True)
    try:
        async def everyone() -> None:
            await asyncio.gather(*(_client(api, key, created, creates, statuses) for _ in range(CLIENTS)))

        asyncio.run(asyncio.wait_for(everyone(), timeout=600))
    finally:
        for request_id in created:
            httpx.post(f"{api}/v1/video/cancel", params={"request_id": request_id}, headers={"API_KEY": key})
        _set_paused(prefect_api, False)
    ms = 1000.0
    return {"clients": CLIENTS, "requests_each": len(creates),
            "create_p50_ms": round(statistics.median(creates) * ms, 1),
            "create_p99_ms": round(_pct(creates, .99) * ms, 1),
            "status_p50_ms": round(statistics.median(statuses) * ms, 1),
            "status_p99_ms": round(_pct(statuses, .99) * ms, 1)}
