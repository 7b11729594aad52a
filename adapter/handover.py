"""Stopping the embedded runner without cancelling its jobs: freeze, hand the runs back to the queue, kill.

Prefect's runner answers SIGTERM with a graceful shutdown that *cancels* every flow run it executes (its
``cancel_all``: kill the process, run the ``on_cancellation`` hooks, set Cancelled), so a plain ``make run`` restart
turned every job in flight into ``CANCELLED`` with a ``CANCELLED`` webhook, though no caller cancelled anything.
A stop is not a cancel, so the supervisor never lets the runner shut down gracefully:

1. SIGSTOP the runner and every process it started (flow-run engines, ffmpeg): nothing can change a run's state,
   pick up a run or post a hook while we work;
2. set every reelflow run that is Running or Pending (in embedded mode only this runner executes them) back to
   Scheduled through Prefect's API, with a message saying why; labels (progress, webhook state) stay;
3. SIGKILL the frozen tree (prompt: no waiting for renders to finish).

On the next start the runner picks the runs up again, and they resume from their cached assets (a task whose
output exists is ``Cached``). If Prefect cannot be reached, the runs stay Running; the crash automation then marks
them Crashed and the reconciler re-queues them, as after any crash.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
from datetime import UTC, datetime

import httpx
import psutil

from adapter.processes import Child, say, stop

PAGE = 200
MESSAGE = "re-queued: the service was stopped while this job ran; it resumes from its cached assets"


def _freeze(child: Child) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGSTOP)
    with contextlib.suppress(psutil.Error):
        for process in psutil.Process(child.pid).children(recursive=True):  # those that left the group too
            with contextlib.suppress(psutil.Error):
                process.suspend()


def _in_flight(client: httpx.Client) -> list[str]:
    ids: list[str] = []
    while True:
        response = client.post("/flow_runs/filter", json={
            "flow_runs": {"state": {"type": {"any_": ["RUNNING", "PENDING"]}}, "tags": {"all_": ["reelflow"]}},
            "limit": PAGE, "offset": len(ids)})
        response.raise_for_status()
        page = [str(run["id"]) for run in response.json()]
        ids += page
        if len(page) < PAGE:
            return ids


def requeue_in_flight(prefect_api_url: str) -> int:
    """Set every Running/Pending reelflow run back to Scheduled (due now); the number of runs handed back."""
    now = datetime.now(UTC).isoformat()
    state = {"type": "SCHEDULED", "name": "Scheduled", "message": MESSAGE, "state_details": {"scheduled_time": now}}
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    with httpx.Client(base_url=prefect_api_url, timeout=10.0, headers=headers) as client:
        ids = _in_flight(client)
        for run_id in ids:
            client.post(f"/flow_runs/{run_id}/set_state", json={"state": state, "force": True}).raise_for_status()
    return len(ids)


def stop_runner(child: Child, prefect_api_url: str) -> None:
    """Stop the runner so that its in-flight jobs go back to the queue instead of being cancelled."""
    if child.exited() is None:
        _freeze(child)
        try:
            count = requeue_in_flight(prefect_api_url)
            say(f"handed {count} in-flight run(s) back to the queue; they resume on the next start")
        except httpx.HTTPError as exc:
            say(f"could not hand the in-flight runs back ({exc}); the reconciler re-queues them after the next start",
                style="yellow")
    child.stop_signal = signal.SIGKILL
    stop(child, grace=5.0)
