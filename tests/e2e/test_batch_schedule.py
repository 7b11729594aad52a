"""``make run``'s scheduled batch: a per-minute REELFLOW_BATCH_SCHEDULE creates batch runs that the runner executes.

Its own small stack: a per-minute schedule on the session stack would add batch runs under every other test.
The manifest holds one one-line narrative, so each scheduled batch is quick and still runs a real job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flows.names import BATCH
from tests.e2e.conftest import KEY_A, narrative_body, wait_for
from tests.e2e.stack import Stack, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("scheduled")
    manifest = data / "nightly.jsonl"
    manifest.write_text(json.dumps(narrative_body(["A kite over the dunes."])) + "\n")
    env = {"REELFLOW_API_KEYS": KEY_A, "REELFLOW_BATCH_SCHEDULE": "* * * * *", "REELFLOW_BATCH_MANIFEST": str(manifest)}
    with start_stack(data / "stack", env) as stack:
        yield stack


def batch_runs(stack: Stack, deployment_id: str, states: list[str]) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}},
            "flow_runs": {"state": {"type": {"any_": states}}, "tags": {"all_": ["auto-scheduled"]}}, "limit": 50}
    response = httpx.post(f"{stack.prefect_api_url}/flow_runs/filter", json=body, timeout=10)
    return list(response.raise_for_status().json())


def test_a_per_minute_schedule_creates_batch_runs_that_complete(scheduled: Stack) -> None:
    deployment = httpx.get(f"{scheduled.prefect_api_url}/deployments/name/{BATCH}", timeout=10).json()
    (schedule,) = deployment["schedules"]
    assert schedule["schedule"]["cron"] == "* * * * *"
    assert schedule["active"] is True
    manifest = schedule["parameters"]["request"]["manifest"]
    assert manifest.endswith("nightly.jsonl")
    # What the UI shows as the deployment's next run: a Scheduled run created ahead of time by the server.
    upcoming = wait_for(lambda: batch_runs(scheduled, deployment["id"], ["SCHEDULED"]), "an upcoming scheduled batch")
    assert upcoming[0]["parameters"]["request"]["manifest"] == manifest
    done = wait_for(lambda: batch_runs(scheduled, deployment["id"], ["COMPLETED"]), "a scheduled batch run to complete",
                    timeout=180)
    assert done[0]["name"].startswith("batch-")
    assert int(done[0]["labels"]["reelflow.batch.finished"]) == 1  # its one job ran to the end
