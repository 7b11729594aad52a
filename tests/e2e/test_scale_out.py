"""Scale-out for real: Prefect server on PostgreSQL, two process workers, S3 (moto), the reconciler and the API.

The API is the same app as in embedded mode, pointed at a Prefect server whose deployments come from
``deployments/prefect.yaml``; jobs are executed by two ``prefect worker start --pool reelflow`` processes that share
nothing but Prefect and the bucket. Which worker ran a job is read from Prefect's own worker events
(``prefect.worker.submitted-flow-run`` / ``executed-flow-run``).
"""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapter.processes import stop
from core.secrets import key_id, key_webhook_secret
from media.probe import probe
from tests.e2e.cluster import Cluster, postgres_available
from tests.e2e.conftest import WEBHOOK_SECRET, narrative_body, poll, terminal, wait_for
from tests.e2e.receiver import Receiver, running

pytestmark = pytest.mark.e2e
KEY = "scale-key-0123456789abcdef"
ENV = {
    "REELFLOW_API_KEYS": KEY,
    "REELFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "REELFLOW_HEARTBEAT_GRACE": "35",
    "REELFLOW_RECONCILE_INTERVAL": "1",
    "REELFLOW_WEBHOOK_ALLOW_PRIVATE": "true",  # the test receiver listens on 127.0.0.1
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # This machine kind runs PostgreSQL at 127.0.0.1:5432; .ci/run starts it if it is down. Never skip: fail loudly.
    assert postgres_available(), "needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres)"
    with Cluster(tmp_path_factory.mktemp("cluster"), workers=2, worker_limit=2, extra_env=ENV) as running:
        yield running


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cluster.api_url, headers={"API_KEY": KEY}, timeout=30) as client:
        yield client


def create(api: httpx.Client, lines: list[str]) -> str:
    response = api.post("/v1/video/create_narrative", json=narrative_body(lines))
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def executed_by(cluster: Cluster, ids: list[str]) -> dict[str, list[str]]:
    """Workers that finished executing each job; waits for the events (a worker reports after the run's last state)."""
    return wait_for(lambda: (found := cluster.runs_by_worker()) and all(i in found for i in ids) and found,
                    "every job's executed-flow-run event", timeout=60)


def test_six_narratives_complete_on_both_workers_into_the_bucket(cluster: Cluster, api: httpx.Client,
                                                                  tmp_path: Path) -> None:
    subjects = ["a lantern", "a heron", "a red kite", "two boats", "an old mill", "a paper crane"]
    ids = [create(api, [f"At dawn, {s} waits by the water.", f"Then {s} moves on."][: 1 + i % 2])
           for i, s in enumerate(subjects)]
    bodies = {i: poll(api, i, terminal, timeout=180) for i in ids}
    assert {b["status"] for b in bodies.values()} == {"COMPLETED"}, bodies

    workers = executed_by(cluster, ids)
    assert {workers[i][-1] for i in ids} == {"worker-a", "worker-b"}, workers  # the work was spread

    keys = set(cluster.bucket_keys("reelflow/"))
    for request_id in ids:
        assert {f"reelflow/jobs/{request_id}/{name}" for name in ("video.mp4", "result.json")} <= keys
    assert any(k.startswith("reelflow/cache/") for k in keys)
    assert any(k.startswith("reelflow/prefect-results/") for k in keys)  # task results shared by the workers

    for request_id, body in bodies.items():
        url = body["result"]["videoUrl"]
        assert url.startswith(f"{cluster.s3_endpoint}/{cluster.bucket}/reelflow/jobs/{request_id}/video.mp4?")
        assert "X-Amz-Signature=" in url  # presigned: no API key, no reelflow in the download path
        path = tmp_path / f"{request_id}.mp4"
        path.write_bytes(httpx.get(url, timeout=30).raise_for_status().content)
        info = probe(path)
        assert info.video is not None and info.video.codec == "h264" and info.audio is not None
        assert abs(info.duration - body["result"]["duration"]) < 0.1


def flow_run(cluster: Cluster, request_id: str) -> dict[str, Any]:
    return cluster.flow_run_of(request_id)


def test_jobs_of_a_killed_worker_recover_on_the_other(cluster: Cluster, api: httpx.Client) -> None:
    lines = ["A night train leaves the city.", "It crosses a silver bridge.", "It reaches the sea at dawn."]
    ids = [create(api, [f"Journey {n}: {line}" for line in lines]) for n in range(4)]

    def victim_jobs_running() -> list[str]:
        """worker-a's jobs, once all of them run and one has finished its stills (so the rerun can reuse them)."""
        submitted = cluster.runs_by_worker("prefect.worker.submitted-flow-run")
        mine = [i for i in ids if submitted.get(i) == ["worker-a"]]
        if len(mine) + sum(1 for i in ids if submitted.get(i) == ["worker-b"]) < len(ids):
            return []  # not every job has been picked up yet
        states = {i: api.get("/v1/video/status", params={"request_id": i}).json() for i in mine}
        if not mine or any(s["status"] != "IN_PROGRESS" for s in states.values()):
            return []
        return mine if any(s["details"].get("image_generation") == "COMPLETED" for s in states.values()) else []

    victims = wait_for(victim_jobs_running, "worker-a running its jobs", timeout=120)
    cluster.kill_worker("worker-a")

    bodies = {i: poll(api, i, terminal, timeout=240) for i in ids}
    assert {b["status"] for b in bodies.values()} == {"COMPLETED"}, bodies
    executed = executed_by(cluster, ids)
    for request_id in victims:
        assert executed[request_id] == ["worker-b"], executed  # worker-a never finished it; worker-b did
        assert flow_run(cluster, request_id)["labels"].get("reelflow.requeues") == 1
        assert f"reelflow/jobs/{request_id}/video.mp4" in cluster.bucket_keys(f"reelflow/jobs/{request_id}/")


def test_prefect_refuses_callers_without_credentials(cluster: Cluster) -> None:
    api = cluster.prefect_api_url
    assert httpx.get(f"{api}/health").status_code == 200  # probes stay open
    assert httpx.post(f"{api}/flow_runs/filter", json={"limit": 1}).status_code == 403  # CSRF is checked first
    assert httpx.get(f"{api}/deployments/name/narrative/reelflow-narrative").status_code == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"reelflow:guess").decode()}
    assert httpx.get(f"{api}/flow_runs/{uuid.uuid4()}", headers=wrong).status_code == 401
    right = {"Authorization": "Basic " + base64.b64encode(cluster.auth_string.encode()).decode()}
    assert httpx.post(f"{api}/flow_runs/filter", json={"limit": 1}, headers=right).status_code == 403  # no CSRF token
    with cluster.prefect() as prefect:
        assert prefect.post("/flow_runs/filter", json={"limit": 1}).status_code == 200


def test_a_worker_stopped_with_sigterm_leaves_its_job_to_be_resumed(cluster: Cluster, api: httpx.Client) -> None:
    """Runs last: it stops one worker, with a fresh one beside it to take the job over."""
    spare = cluster.start_worker("worker-spare")
    lines = [f"Scene {i}: a kite climbs over the harbour." for i in range(1, 9)]
    with running(Receiver(key_webhook_secret(WEBHOOK_SECRET, key_id(KEY)))) as receiver:
        response = api.post("/v1/video/create_narrative", json={**narrative_body(lines), "webhookUrl": receiver.url})
        assert response.status_code == 200, response.text
        request_id = response.json()["request_id"]
        seen: list[dict[str, Any]] = []
        before = poll(api, request_id, lambda b: b["progress"] >= 25 or terminal(b), seen=seen)
        assert not terminal(before), "the job ended before its worker could be stopped"
        [name] = wait_for(lambda: cluster.runs_by_worker("prefect.worker.submitted-flow-run").get(request_id),
                          "the worker that took the job")
        victim = cluster.workers.pop(name)
        stop(victim, grace=10.0)  # SIGTERM to its group and to the flow-run processes it started; SIGKILL after 10 s
        if name == spare.name:
            cluster.start_worker("worker-spare-2")
        body = poll(api, request_id, lambda b: terminal(b) and b.get("webhook", {}).get("status") == "delivered",
                    timeout=300, seen=seen)
        terminal_posts = [d for d in receiver.for_request(request_id) if d.payload["status"] != "IN_PROGRESS"]
    assert body["status"] == "COMPLETED", body
    assert all(b["status"] != "CANCELLED" for b in seen)
    assert [d.payload["status"] for d in terminal_posts] == ["COMPLETED"]
    run_id = cluster.flow_run_of(request_id)["id"]
    with cluster.prefect() as prefect:
        runs = prefect.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}, "limit": 200})
        tasks = {r["id"]: (r["name"], r["state"]["name"]) for r in runs.raise_for_status().json() if r.get("state")}
        logs: list[dict[str, Any]] = []
        while True:  # Prefect pages at most 200 lines
            page = prefect.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200,
                                                      "offset": len(logs)}).raise_for_status().json()
            logs += page
            if len(page) < 200:
                break
    states = sorted(tasks.values())
    # Which task runs called a provider: the registry logs each call, inside its task run. A line the stopped
    # worker had not shipped yet can only make this set smaller.
    callers = {entry.get("task_run_id") for entry in logs
               if "drawing with" in entry["message"] or "narrating with" in entry["message"]}
    for prefix in ("image-", "voice-"):
        made = {name for name, state in states if name.startswith(prefix) and state in ("Completed", "Cached")}
        assert made == {f"{prefix}{i}" for i in range(1, 9)}, states
        # Each generated once in total: no asset is made again once a task run finished making it. (A task the stop
        # cut short may end Completed once more on the resumed run, from storage without a call; one cut short
        # mid-call calls again, and only its second run completes.)
        generated = Counter(name for run, (name, state) in tasks.items()
                            if name.startswith(prefix) and state == "Completed" and run in callers)
        assert generated and max(generated.values()) == 1, (generated, states)
