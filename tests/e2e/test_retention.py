"""Retention on the live stack: the daily deployment exists, and a job back-dated past REELFLOW_RETENTION_DAYS is
swept by it (media, its own cache entries, its run), its status answers 410 to its owner, and the disk usage drops.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import httpx
import pytest

from flows.names import RETENTION
from tests.e2e.conftest import KEY_B, narrative_body, poll, terminal, wait_for
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
DAYS = 40  # older than the default 30 days of retention


def _cache_keys(value: object) -> set[str]:
    if isinstance(value, str):
        return {value} if value.startswith("cache/") else set()
    if isinstance(value, dict):
        return set().union(*map(_cache_keys, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_cache_keys, value)) if value else set()
    return set()


def _backdate(paths: list[Path], days: float) -> None:
    then = time.time() - days * 86400
    for path in paths:
        os.utime(path, (then, then))


def _usage(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def test_a_job_past_retention_is_swept_and_answers_410(api: httpx.Client, stack: Stack) -> None:
    prefect = httpx.Client(base_url=stack.prefect_api_url, timeout=30)
    deployment = prefect.get(f"/deployments/name/{RETENTION}").json()
    schedules = deployment["schedules"]
    assert [s["schedule"]["cron"] for s in schedules] == ["17 3 * * *"]  # daily, visible in the UI
    assert all(s["active"] for s in schedules)

    line = f"A lighthouse keeper writes page {uuid.uuid4().hex[:8]} of her log."  # its own cache entries
    request_id = api.post("/v1/video/create_narrative", json=narrative_body([line])).json()["request_id"]
    assert poll(api, request_id, terminal, timeout=300)["status"] == "COMPLETED"
    tagged = {"flow_runs": {"tags": {"all_": [f"request:{request_id}"]}}}
    assert prefect.post("/flow_runs/filter", json=tagged).json()  # the job's run, before the sweep
    media = stack.data_dir / "media"
    job_files = [p for p in (media / "jobs" / request_id).rglob("*") if p.is_file()]
    result = json.loads((media / "jobs" / request_id / "result.json").read_text())
    stems = {media / key.rsplit(".", 1)[0] for key in _cache_keys(result)}
    cache_files = [p for stem in stems for p in stem.parent.glob(f"{stem.name}*") if p.is_file()]
    assert cache_files
    before = _usage(job_files + cache_files)
    _backdate(job_files + cache_files, DAYS)

    run = prefect.post(f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": {}}).json()
    state = wait_for(lambda: (s := prefect.get(f"/flow_runs/{run['id']}").json()["state"])["type"] in
                     ("COMPLETED", "FAILED", "CRASHED") and s, "the retention run", timeout=180)
    assert state["type"] == "COMPLETED", state

    assert _usage(job_files + cache_files) == 0
    assert before > 0
    assert not (media / "jobs" / request_id).exists()
    response = api.get("/v1/video/status", params={"request_id": request_id})
    assert response.status_code == 410
    assert "past retention (REELFLOW_RETENTION_DAYS=30)" in response.json()["message"]
    other = httpx.get(f"{stack.api_url}/v1/video/status", params={"request_id": request_id},
                      headers={"API_KEY": KEY_B})
    assert other.status_code == 404  # another key learns nothing, as for any id it does not own
    assert prefect.post("/flow_runs/filter", json=tagged).json() == []  # its run went too
