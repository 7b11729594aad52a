"""``reelflow batch`` against the real stack: validation up front, one job per line, bounded, owned by the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.secrets import key_id
from tests.e2e.conftest import KEY_A, KEY_B, STACK_ENV, narrative_body
from tests.e2e.stack import REPO, Stack

pytestmark = pytest.mark.e2e


def reelflow_batch(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it next to the service (same data dir, same keys, same Prefect)."""
    env = {**os.environ, **STACK_ENV, "REELFLOW_DATA_DIR": str(stack.data_dir),
           "PREFECT_API_URL": stack.prefect_api_url}
    return subprocess.run([sys.executable, "-c", "from adapter.cli import app; app()", "batch", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=240)


def flow_runs(stack: Stack, **flt: Any) -> list[dict[str, Any]]:
    response = httpx.post(f"{stack.prefect_api_url}/flow_runs/filter", json={**flt, "limit": 200}, timeout=10)
    return list(response.raise_for_status().json())


def write(path: Path, *lines: dict[str, Any]) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def test_an_invalid_manifest_starts_nothing(stack: Stack, tmp_path: Path) -> None:
    before = len(flow_runs(stack, flows={"name": {"any_": ["batch"]}}))
    manifest = write(tmp_path / "bad.jsonl", narrative_body(["A valid line."]),
                     {"input": {"prompt_list": ["x"], "image_model": "DALLE3"}})
    done = reelflow_batch(stack, str(manifest), "--api-key", KEY_A)
    assert done.returncode == 2, done.stderr
    assert "'DALLE3' is not an express model" in done.stderr and "nothing was started" in done.stderr
    assert len(flow_runs(stack, flows={"name": {"any_": ["batch"]}})) == before


def test_batch_runs_each_line_as_a_job_of_the_owner_one_at_a_time(stack: Stack, tmp_path: Path) -> None:
    manifest = write(tmp_path / "nightly.jsonl",
                     narrative_body(["A fishing boat leaves the harbour at dawn."]),
                     {"input": {"prompt_list": ["x"], "image_model": "NOPE"}},
                     {"type": "narrative", **narrative_body(["Gulls circle the returning boat."], aspect_ratio="1:1")})
    done = reelflow_batch(stack, str(manifest), "--skip-invalid", "--max-in-flight", "1", "--api-key", KEY_A)
    assert done.returncode == 0, done.stdout + done.stderr
    batch_id = done.stdout.strip().splitlines()[-1]
    assert "'NOPE' is not a known image model" in done.stderr  # reported, then skipped
    assert "2 of 2 jobs completed (1 invalid lines skipped)" in done.stderr

    jobs = sorted(flow_runs(stack, flow_runs={"tags": {"all_": [f"batch:{batch_id[:8]}"]}}),
                  key=lambda run: run["start_time"])
    assert len(jobs) == 2 and all(run["state_type"] == "COMPLETED" for run in jobs)
    assert all(f"key:{key_id(KEY_A)}" in run["tags"] and "job" in run["tags"] for run in jobs)
    first_end, second_start = (datetime.fromisoformat(jobs[0]["end_time"]),
                               datetime.fromisoformat(jobs[1]["start_time"]))
    assert second_start >= first_end, "max-in-flight 1: the second job starts after the first has finished"

    request_ids = [run["labels"]["reelflow.request_id"] for run in jobs]  # jobs came through the intake
    for request_id in request_ids:  # each job is an ordinary request: visible to the owner's key, and only to it
        status = httpx.get(f"{stack.api_url}/v1/video/status", params={"request_id": request_id},
                           headers={"API_KEY": KEY_A}).json()
        assert status["status"] == "COMPLETED" and status["result"]["videoUrl"]
        other = httpx.get(f"{stack.api_url}/v1/video/status", params={"request_id": request_id},
                          headers={"API_KEY": KEY_B})
        assert other.status_code == 404
    square = next(run for run in jobs if run["parameters"]["request"]["input"]["aspect_ratio"] == "1:1")
    assert square["parameters"]["request"]["input"]["prompt_list"] == ["Gulls circle the returning boat."]

    artifacts = httpx.post(f"{stack.prefect_api_url}/artifacts/filter", timeout=10,
                           json={"artifacts": {"key": {"any_": [f"batch-{batch_id[:8]}"]}}}).json()
    table = artifacts[0]["data"]
    assert all(request_id in table for request_id in request_ids) and "| 2 | - | `-` | SKIPPED |" in table
    assert table.count("COMPLETED") == 2 and table.count("[video](http") == 2
