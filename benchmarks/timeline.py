"""Where one job's wall time goes, from the outside in (the edit benchmark prints it; usable on its own too).

Every mark is a timestamp some part of the stack already records, read back after the job ended: the client's own
clock around ``POST`` and the poll that saw the end, the intake row (``created``, ``dispatched``, ``finished``),
the flow run's state history (Scheduled when the dispatcher made it, Pending when the runner claimed it, Running
once the flow-run process has imported everything and the engine started, Completed) and each task run's first and
last state. The phases are the gaps between consecutive marks, so they add up to the wall time.

``python benchmarks/timeline.py <request_id>`` against a running stack (``PREFECT_API_URL``,
``REELFLOW_BENCH_DATA_DIR``) prints the same table without the client-side marks.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
RECORDED_WITHIN = 5.0
FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def _ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def _intake(data_dir: Path, request_id: str) -> dict[str, float | None]:
    """The intake row's own timestamps (commit, flow run created and recorded, terminal record written)."""
    from sqlalchemy import text

    from benchmarks.api_bench import intake_url_of
    from core.intake_db import engine_for

    async def read() -> dict[str, float | None]:
        engine = engine_for(intake_url_of(data_dir), pooled=False)
        try:
            async with engine.connect() as conn:
                row = (await conn.execute(text("SELECT created, dispatched, finished, flow_run_id FROM intake "
                                               "WHERE request_id = CAST(:r AS uuid)"), {"r": request_id})).one()
        finally:
            await engine.dispose()
        return {"created": row[0].timestamp(), "dispatched": row[1].timestamp() if row[1] else None,
                "finished": row[2].timestamp() if row[2] else None, "flow_run_id": row[3]}  # type: ignore[dict-item]

    return asyncio.run(read())


def _task_spans(prefect: httpx.Client, flow_run_id: str) -> list[dict[str, Any]]:
    """Each task run: name, final state name, first and last state timestamps (a Cached run has no Running).

    The stack's server records task runs in batches, at least once a second (docs/operations.md): read until the
    job's last task (``assemble``) is recorded as finished, for at most :data:`RECORDED_WITHIN` seconds."""
    deadline = time.monotonic() + RECORDED_WITHIN
    while True:
        runs = prefect.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200})
        if any(r["name"] == "assemble" and r["state_type"] in FINAL for r in runs.json()):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.25)
    spans = []
    for run in runs.json():
        states = prefect.get("/task_run_states/", params={"task_run_id": run["id"]}).json()
        stamps = sorted(t for t in (_ts(s["timestamp"]) for s in states) if t is not None)
        if stamps:
            spans.append({"name": run["name"], "state": run["state_name"], "start": stamps[0], "end": stamps[-1]})
    return sorted(spans, key=lambda s: s["start"])


def marks(prefect_api: str, data_dir: Path, request_id: str) -> dict[str, float]:
    """Absolute timestamps (epoch seconds) of every mark the stack recorded for one request."""
    row = _intake(data_dir, request_id)
    flow_run_id = str(row["flow_run_id"])
    with httpx.Client(base_url=prefect_api, timeout=30) as prefect:
        states = prefect.get("/flow_run_states/", params={"flow_run_id": flow_run_id}).json()
        spans = _task_spans(prefect, flow_run_id)
    by_type: dict[str, float] = {}
    for state in sorted(states, key=lambda s: s["timestamp"]):
        by_type.setdefault(state["type"], _ts(state["timestamp"]) or 0.0)
    scene_tasks = [s for s in spans if s["name"] != "assemble"]
    assemble = [s for s in spans if s["name"] == "assemble"]
    found: dict[str, float | None] = {
        "intake row committed": row["created"],
        "flow run created (dispatcher)": by_type.get("SCHEDULED") or row["dispatched"],
        "runner claimed it (Pending)": by_type.get("PENDING"),
        "flow-run process running (Running)": by_type.get("RUNNING"),
        "first task run": scene_tasks[0]["start"] if scene_tasks else None,
        "scene tasks done": max(s["end"] for s in scene_tasks) if scene_tasks else None,
        "assemble started": assemble[0]["start"] if assemble else None,
        "assemble done": assemble[0]["end"] if assemble else None,
        "flow run Completed": by_type.get("COMPLETED"),
        "terminal record written": row["finished"],
    }
    return {name: at for name, at in found.items() if at is not None}


def phases(points: dict[str, float]) -> list[tuple[str, float]]:
    """(``from → to``, seconds) between consecutive marks in time order."""
    ordered = sorted(points.items(), key=lambda item: item[1])
    return [(f"{a} → {b}", round(tb - ta, 3)) for (a, ta), (b, tb) in zip(ordered, ordered[1:], strict=False)]


def table(rows: list[tuple[str, float]]) -> str:
    return "\n".join(f"{seconds:8.3f} s  {name}" for name, seconds in rows)


def task_table(prefect_api: str, data_dir: Path, request_id: str) -> list[dict[str, Any]]:
    """The task runs of a request with start offsets from the first one (for reading which tasks overlap)."""
    flow_run_id = str(_intake(data_dir, request_id)["flow_run_id"])
    with httpx.Client(base_url=prefect_api, timeout=30) as prefect:
        spans = _task_spans(prefect, flow_run_id)
    first = spans[0]["start"] if spans else 0.0
    return [{"name": s["name"], "state": s["state"], "at": round(s["start"] - first, 3),
             "took": round(s["end"] - s["start"], 3)} for s in spans]


if __name__ == "__main__":
    request = sys.argv[1]
    api, data = os.environ["PREFECT_API_URL"], Path(os.environ["REELFLOW_BENCH_DATA_DIR"])
    sys.stdout.write(table(phases(marks(api, data, request))) + "\n")
    for task in task_table(api, data, request):
        sys.stdout.write(f"  +{task['at']:7.3f} s {task['took']:7.3f} s  {task['state']:10} {task['name']}\n")
