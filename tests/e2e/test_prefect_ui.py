"""What an operator sees in the Prefect UI: named, tagged runs, every module's logs, artifacts, and screenshots.

One completed and one failed narrative on the session stack; the Prefect API is read as the UI reads it, and the
UI itself is opened in headless Chromium (Qt WebEngine, :mod:`tests.e2e.ui_shot`), which must show the artifact
titles on each run's page. The screenshots stay in the test's tmp dir (``ui-completed.png``, ``ui-failed.png``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.artifacts import FAILURE_TITLE, SCENES_TITLE, VIDEO_TITLE
from tests.e2e.conftest import FAIL_MARKER, narrative_body, poll, terminal, wait_for
from tests.e2e.stack import REPO, Stack

pytestmark = pytest.mark.e2e


def prefect(stack: Stack, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(method, f"{stack.prefect_api_url}{path}", json=body, timeout=10)
    return response.raise_for_status().json()


@pytest.fixture(scope="module")
def runs(stack: Stack, api: httpx.Client) -> dict[str, str]:
    """A completed and a failed job (started together, so they render side by side)."""
    word = uuid.uuid4().hex[:6]
    good = narrative_body([f"Harbour lights {word} flicker at dusk.", "A ferry docks."], aspect_ratio="9:16")
    bad = narrative_body([f"Quiet fields {word}.", f"This scene cannot be drawn {FAIL_MARKER}."])
    ids = {name: api.post("/v1/video/create_narrative", json=body).json()["request_id"]
           for name, body in (("completed", good), ("failed", bad))}
    assert poll(api, ids["completed"], terminal)["status"] == "COMPLETED"
    assert poll(api, ids["failed"], terminal)["status"] == "FAILED"
    # The request id is the intake's; the UI shows the flow run the dispatcher made for it (tagged request:<id>).
    runs = {name: prefect(stack, "POST", "/flow_runs/filter",
                          {"flow_runs": {"tags": {"all_": [f"request:{rid}"]}}})[0]["id"] for name, rid in ids.items()}
    return runs | {"word": word, "completed_request": ids["completed"], "failed_request": ids["failed"]}


def artifacts(stack: Stack, run_id: str) -> dict[str, dict[str, Any]]:
    found = prefect(stack, "POST", "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
    return {a["description"]: a for a in found if a.get("key")}


def test_a_run_is_named_after_its_request_and_first_line_and_tagged(stack: Stack, runs: dict[str, str]) -> None:
    run = prefect(stack, "GET", f"/flow_runs/{runs['completed']}")
    assert run["name"] == f"{runs['completed_request'][:8]}-harbour-lights-{runs['word']}-flicker"
    for tag in ("kind:narrative", "image:FLUX1.1PRO", "voice:OPENAI", "aspect:9:16", "offline", "job", "reelflow"):
        assert tag in run["tags"]


def test_module_logs_reach_the_run_log_view(stack: Stack, runs: dict[str, str]) -> None:
    def module_lines() -> list[dict[str, Any]]:
        logs = prefect(stack, "POST", "/logs/filter",
                       {"logs": {"flow_run_id": {"any_": [runs["completed"]]}}, "limit": 200})
        return [line for line in logs if line["name"].split(".")[0] in ("providers", "media")]

    lines = wait_for(module_lines, "a providers/media log line on the run")
    assert any(line["name"] == "providers.registry" and "drawing with" in line["message"] for line in lines)


def test_a_completed_run_has_a_scene_table_and_a_video_card_with_working_links(stack: Stack,
                                                                               runs: dict[str, str]) -> None:
    found = artifacts(stack, runs["completed"])
    table, card = found[SCENES_TITLE], found[VIDEO_TITLE]
    assert table["type"] == "table"
    assert card["type"] == "markdown"
    assert "![poster of" in card["data"]
    still = httpx.get(json.loads(table["data"])[0]["still"], timeout=10)
    assert still.status_code == 200
    assert still.content.startswith(b"\x89PNG")


def test_a_failed_run_has_a_card_naming_stage_scene_reason_and_advice(stack: Stack, runs: dict[str, str]) -> None:
    card = wait_for(lambda: artifacts(stack, runs["failed"]).get(FAILURE_TITLE), "the failure artifact")
    assert "| Stage | `image_generation` |" in card["data"]
    assert "| Scene | 2 |" in card["data"]
    assert "| What to try |" in card["data"]


@pytest.mark.parametrize(("which", "titles"), [("completed", (VIDEO_TITLE, SCENES_TITLE)),
                                               ("failed", (FAILURE_TITLE,))])
def test_the_prefect_ui_shows_the_artifacts_in_headless_chromium(stack: Stack, runs: dict[str, str], which: str,
                                                                 titles: tuple[str, ...], tmp_path: Path) -> None:
    url = f"{stack.prefect_api_url.removesuffix('/api')}/runs/flow-run/{runs[which]}"
    shot = tmp_path / f"ui-{which}.png"
    done = subprocess.run([sys.executable, "-m", "tests.e2e.ui_shot", url, str(shot), runs[f"{which}_request"][:8],
                           *titles,
                           "--click", "Artifacts"],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"page text:\n{done.stdout}\n{done.stderr[-2000:]}"
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank image
