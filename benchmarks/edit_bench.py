"""Edit benchmark (issue 15): regenerating 1 scene of a 10-scene narrative vs rendering all 10 cold.

Both are measured side by side through the real stack's API (create / edit, then poll ``/status`` until
COMPLETED), alternating, each cold render with fresh lines so nothing is cached. The edit rerolls one still, so it
pays for one image, one scene render, the join and the publish; the ratio edit / cold is what the issue bounds
(goal ≤ 20 %).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from benchmarks import timeline

SCENES = 10
REPS = 2


def _wait(client: httpx.Client, request_id: str) -> dict[str, Any]:
    while True:
        body: dict[str, Any] = client.get("/v1/video/status", params={"request_id": request_id}).json()
        if body["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            if body["status"] != "COMPLETED":
                raise RuntimeError(f"{request_id} ended {body['status']}: {body.get('message')}")
            return body
        time.sleep(0.1)


def _timed(client: httpx.Client, path: str, payload: dict[str, Any]) -> tuple[float, dict[str, Any], dict[str, float]]:
    """Wall time from POST to the poll that saw COMPLETED, the final body, and the client's marks (epoch s)."""
    start, posted = time.perf_counter(), time.time()
    response = client.post(path, json=payload)
    response.raise_for_status()
    accepted = time.time()
    body = _wait(client, response.json()["request_id"])
    seen = time.time()
    return time.perf_counter() - start, body, {"client POST": posted, "API answered": accepted,
                                               "client saw COMPLETED": seen}


def _timeline(body: dict[str, Any], client_marks: dict[str, float]) -> list[tuple[str, float]]:
    """The job's phases (benchmarks/timeline.py): the stack's own timestamps plus the client's."""
    points = timeline.marks(os.environ["PREFECT_API_URL"], Path(os.environ["REELFLOW_BENCH_DATA_DIR"]),
                            body["request_id"])
    return timeline.phases({**points, **client_marks})


def main() -> dict[str, Any]:
    api, key = os.environ["REELFLOW_BENCH_API_URL"], os.environ["REELFLOW_BENCH_API_KEY"]
    colds: list[float] = []
    edits: list[float] = []
    lines_of: dict[str, list[list[tuple[str, float]]]] = {"cold": [], "edit": []}
    last_edit = ""
    with httpx.Client(base_url=api, headers={"API_KEY": key}, timeout=30) as client:
        for _ in range(REPS):
            tag = uuid.uuid4().hex[:6]
            lines = [f"Scene {i} ({tag}): a paper lantern drifts over the sleeping town." for i in range(1, SCENES + 1)]
            cold, body, cold_marks = _timed(client, "/v1/video/create_narrative",
                                            {"input": {"prompt_list": lines, "image_model": "FLUX1.1PRO"}})
            edit, edited, edit_marks = _timed(client, "/v1/video/edit",
                                              {"request_id": body["request_id"], "scenes": {"4": {"reroll": "image"}}})
            lines_of["cold"].append(_timeline(body, cold_marks))
            lines_of["edit"].append(_timeline(edited, edit_marks))
            last_edit = edited["request_id"]
            if [s["reused"] for s in edited["result"]["scenes"]].count(False) != 1:
                raise RuntimeError("the edit regenerated more than one scene")
            colds.append(cold)
            edits.append(edit)
    cold_s, edit_s = statistics.median(colds), statistics.median(edits)
    for kind, runs in lines_of.items():
        for number, phases in enumerate(runs, 1):
            sys.stderr.write(f"{kind} {number} timeline:\n{timeline.table(phases)}\n")
    for task in timeline.task_table(os.environ["PREFECT_API_URL"], Path(os.environ["REELFLOW_BENCH_DATA_DIR"]),
                                    last_edit):
        sys.stderr.write(f"  +{task['at']:7.3f} s {task['took']:7.3f} s  {task['state']:10} {task['name']}\n")
    return {"scenes": SCENES, "cold_wall_s": round(cold_s, 2), "edit_wall_s": round(edit_s, 2),
            "edit_over_cold": round(edit_s / cold_s, 3), "runs": REPS, "colds": [round(c, 2) for c in colds],
            "edits": [round(e, 2) for e in edits], "load_average": [round(v, 2) for v in os.getloadavg()]}
