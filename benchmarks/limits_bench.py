"""How fast bad input is refused (issue 11): each case 20 times in a row against the live API, p50 and max in ms.

The e2e tests assert the status of each case; the time lives here, never in a test. The report's case (a NUL in a
prompt line) used to hang for more than 120 s in Prefect's retry loop.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import httpx

ROUNDS = 20
LINE = {"prompt_list": ["A line."], "image_model": "FLUX1.1PRO"}
CASES: dict[str, dict[str, Any]] = {
    "nul_in_line": {"json": {"input": {**LINE, "prompt_list": ["a \u0000 b"]}}},
    "lone_surrogate": {"content": b'{"input": {"prompt_list": ["a\\ud800"], "image_model": "FLUX1.1PRO"}}'},
    "json_100000_deep": {"content": b"[" * 100_000 + b"]" * 100_000},
    "line_60000_chars": {"json": {"input": {**LINE, "prompt_list": ["x" * 60_000]}}},
    "webhook_port_99999": {"json": {"input": LINE, "webhookUrl": "http://example.com:99999/x"}},
}


def _measure(client: httpx.Client, send: Any) -> tuple[float, float, int]:
    times, status = [], 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        status = send(client).status_code
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1), round(max(times), 1), status


def main() -> dict[str, Any]:
    api, key = os.environ["REELFLOW_BENCH_API_URL"], os.environ["REELFLOW_BENCH_API_KEY"]
    results: dict[str, Any] = {}
    with httpx.Client(base_url=api, headers={"API_KEY": key, "content-type": "application/json"},
                      timeout=130) as client:
        for name, kwargs in CASES.items():
            p50, worst, status = _measure(client, lambda c, k=kwargs: c.post("/v1/video/create_narrative", **k))
            results[name] = {"status": status, "p50_ms": p50, "max_ms": worst}
        p50, worst, status = _measure(client, lambda c: c.get(
            "/v1/video/files/jobs/x/video.mp4", params={"expires": "9999999999", "signature": "été"}))
        results["non_ascii_signature"] = {"status": status, "p50_ms": p50, "max_ms": worst}
    return results
