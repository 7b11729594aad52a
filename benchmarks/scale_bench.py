"""Scale-out: 12 vendor-latency-bound jobs on one process worker vs two → throughput ratio (goal ≥ 1.8×).

Each job is a one-scene narrative whose still and clip come from the Replicate fake with a fixed latency
(``IMAGE_S`` then ``CLIP_S``, in sequence: issue 6's 5 s / 20 s scaled by 0.4) and whose voice comes from the
OpenAI fake: the real SDKs over local HTTP, as in tests/flows/test_vendor_flow.py. A worker stands for one machine:
it runs ``WORKER_LIMIT`` job at a time, so on this 2-core box the two workers never compete for a core the way two
machines would not (what they do share — Prefect server, PostgreSQL, moto — is what a real deployment shares too).

One deployment (tests/e2e/cluster.py): a new database on the PostgreSQL at 127.0.0.1:5432, a Prefect server, a moto
S3 bucket, ``deployments/prefect.yaml`` registered as ``make deploy`` does, and ``prefect worker start --pool
reelflow`` processes. Phase 1 runs 12 jobs on worker-a alone; then worker-b starts and phase 2 runs 12 other jobs
(other subjects: a cold cache again) on both. Throughput is measured from Prefect's own timestamps: 12 jobs / (last
end time − first created time). Figures are printed, never asserted.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

JOBS = 12
WORKER_LIMIT = 1
IMAGE_S, CLIP_S = 2.0, 8.0
SUBJECTS = ["a lighthouse", "a heron", "a red kite", "two boats", "an old mill", "a paper crane", "a fox",
            "a tram", "a kettle", "a violin", "a glacier", "a beehive", "a windmill", "a canoe", "an owl",
            "a bakery", "a comet", "a ferry", "a lantern", "a tortoise", "an orchard", "a bicycle", "a geyser",
            "a harbour crane"]


def _body(subject: str) -> dict[str, Any]:
    from core.contract import parse_narrative

    return parse_narrative({"input": {
        "prompt_list": [f"At dawn, {subject} waits by the water."], "image_model": "FLUX1.1PRO",
        "add_generative_video": True, "video_model": "KLINGIMGTOVIDPRO", "provider": "OPENAI", "speaker": "alloy",
    }}).model_dump(mode="json")


def _time(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def run_jobs(cluster: Any, subjects: list[str]) -> dict[str, float]:
    """Submit one job per subject at once; wall time from the first created to the last end, and the spread."""

    with cluster.prefect(timeout=30) as api:  # authenticated: the scale-out Prefect server refuses anonymous callers
        runs = _submit_and_wait(api, subjects)
    failed = [r["state"]["message"] for r in runs if r["state_type"] != "COMPLETED"]
    if failed:
        raise RuntimeError(f"{len(failed)} jobs did not complete: {failed[:3]}")
    wall = max(_time(r["end_time"]) for r in runs) - min(_time(r["created"]) for r in runs)
    per_worker = _per_worker(cluster, [r["id"] for r in runs])
    return {"wall_s": wall, "workers_used": float(len(per_worker)),
            "busiest_worker_jobs": float(max(len(v) for v in per_worker.values()))}


def _submit_and_wait(api: Any, subjects: list[str]) -> list[dict[str, Any]]:
    """Create one run per subject, then poll until every one has ended; the runs."""
    deployment = api.get("/deployments/name/narrative/reelflow-narrative").json()["id"]
    ids = []
    for subject in subjects:
        response = api.post(f"/deployments/{deployment}/create_flow_run",
                            json={"parameters": {"request": _body(subject)}, "tags": ["reelflow", "job"]})
        ids.append(response.raise_for_status().json()["id"])
    deadline = time.monotonic() + 900
    while True:
        runs: list[dict[str, Any]] = api.post("/flow_runs/filter", json={"flow_runs": {"id": {"any_": ids}}}).json()
        if all(r["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") for r in runs):
            return runs
        if time.monotonic() > deadline:
            raise RuntimeError("the jobs did not finish within 15 minutes")
        time.sleep(1.0)


def _per_worker(cluster: Any, ids: list[str]) -> dict[str, list[str]]:
    """worker → jobs it executed (Prefect's executed-flow-run events; they follow a run's last state briefly)."""
    deadline = time.monotonic() + 30
    while True:
        by_run = cluster.runs_by_worker()
        if all(i in by_run for i in ids) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    per_worker: dict[str, list[str]] = {}
    for run_id in ids:
        for worker in by_run.get(run_id, [])[-1:]:
            per_worker.setdefault(worker, []).append(run_id)
    return per_worker


def main() -> dict[str, float]:
    """Figures: wall time and throughput with 1 and 2 workers, and their ratio."""
    from tests.e2e.cluster import Cluster, postgres_available
    from tests.fakes import media
    from tests.fakes.openai_fake import KEY, OpenAIFake
    from tests.fakes.replicate_fake import TOKEN, ReplicateFake

    if not postgres_available():
        raise RuntimeError("the scale benchmark needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres)")
    media.mp4(5.0)  # the fake's clip is rendered once up front, not inside a timed run
    openai, replicate = OpenAIFake().start(), ReplicateFake().start()
    replicate.latency.update(image=IMAGE_S, clip=CLIP_S)
    vendor_env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": openai.base_url, "REPLICATE_API_TOKEN": TOKEN,
                  "REPLICATE_BASE_URL": replicate.url, "REELFLOW_PROVIDER_POLL_INTERVAL": "0.25",
                  "REELFLOW_API_KEYS": "bench-scale-key-0123456789"}
    root = Path(tempfile.mkdtemp(prefix="rf-bench-scale-"))
    try:
        # One deployment for both phases: first worker-a alone, then worker-b joins. The second phase draws other
        # subjects, so both run on a cold cache.
        with contextlib.redirect_stdout(sys.stderr), Cluster(root, workers=1, worker_limit=WORKER_LIMIT,
                                                             extra_env=vendor_env, api=False, reconciler=False,
                                                             quiet=True) as cluster:
            one = run_jobs(cluster, SUBJECTS[:JOBS])
            cluster.start_worker("worker-b")
            two = run_jobs(cluster, SUBJECTS[JOBS:2 * JOBS])
    finally:
        openai.stop()
        replicate.stop()
    if replicate.problems or openai.problems:
        raise RuntimeError(f"the fakes saw malformed requests: {replicate.problems + openai.problems}")
    per_job = IMAGE_S + CLIP_S
    return {
        "jobs": float(JOBS),
        "worker_limit": float(WORKER_LIMIT),
        "vendor_wait_per_job_s": per_job,
        "one_worker_wall_s": round(one["wall_s"], 2),
        "two_workers_wall_s": round(two["wall_s"], 2),
        "one_worker_jobs_per_min": round(60 * JOBS / one["wall_s"], 2),
        "two_workers_jobs_per_min": round(60 * JOBS / two["wall_s"], 2),
        "two_workers_used": two["workers_used"],
        "two_workers_busiest_worker_jobs": two["busiest_worker_jobs"],
        "throughput_ratio": round(one["wall_s"] / two["wall_s"], 3),
        "ideal_ratio": 2.0,
    }


if __name__ == "__main__":
    import json

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    sys.stdout.write(json.dumps(main(), indent=2) + "\n")
