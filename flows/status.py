"""Prefect flow-run state → the seed's ``/status`` body (also the body of every webhook).

One ``read_flow_run`` carries everything: the state, and the labels the flow writes as it goes (progress, current
stage, per-stage states, and a plain failure message). The result of a COMPLETED run is read from the
``result.json`` the flow publishes next to the video.
"""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import FlowRun, StateType

from core.results import local_parts
from core.settings import get_settings

PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELLED = "PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"
STAGE_PREFIX = "reelflow.stage."
RETRYING_NAMES = {"AwaitingRetry", "Retrying"}
REQUEUES_LABEL = "reelflow.requeues"  # written by the reconciler (flows.reconcile) each time it re-queues a job

_BY_TYPE = {
    StateType.SCHEDULED: PENDING,
    StateType.PENDING: PENDING,
    StateType.RUNNING: IN_PROGRESS,
    StateType.PAUSED: IN_PROGRESS,
    StateType.COMPLETED: COMPLETED,
    StateType.FAILED: FAILED,
    StateType.CRASHED: FAILED,
    StateType.CANCELLING: CANCELLED,
    StateType.CANCELLED: CANCELLED,
}


def will_requeue(run: FlowRun) -> bool:
    """A Crashed job the reconciler is about to re-queue (its worker died; re-queues left): not over yet."""
    if run.state is None or run.state.type != StateType.CRASHED or "job" not in (run.tags or []):
        return False
    return int((run.labels or {}).get(REQUEUES_LABEL, 0) or 0) < get_settings().requeue_limit


def api_status(run: FlowRun) -> str:
    """The seed status for a flow run's state (Late is Scheduled; AwaitingRetry/Retrying are in progress).

    A job that Crashed because its worker died stays IN_PROGRESS while it still has re-queues left: the reconciler
    puts it back in the queue within seconds, and a caller that saw FAILED would have stopped polling a job that
    is about to complete.
    """
    if run.state is None:
        return PENDING
    if run.state.name in RETRYING_NAMES or will_requeue(run):
        return IN_PROGRESS
    return _BY_TYPE.get(run.state.type, IN_PROGRESS)


def is_terminal(run: FlowRun) -> bool:
    return run.state is not None and run.state.type in {
        StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.CANCELLING,
    }


def progress_of(run: FlowRun, status: str) -> int:
    """0–100 from the flow's labels; 100 only when COMPLETED, never above 99 before."""
    if status == COMPLETED:
        return 100
    raw = (run.labels or {}).get("reelflow.progress", 0)
    try:
        value = int(float(raw))
    except (TypeError, ValueError):
        value = 0
    return max(0, min(99, value))


def stage_details(run: FlowRun) -> dict[str, str]:
    labels = run.labels or {}
    return {key.removeprefix(STAGE_PREFIX): str(value) for key, value in labels.items() if key.startswith(STAGE_PREFIX)}


def failure_message(run: FlowRun) -> str:
    """A plain reason for a FAILED run: the flow's own message, else the state's, never a stack trace."""
    labels = run.labels or {}
    if labels.get("reelflow.message"):
        return str(labels["reelflow.message"])
    state = run.state
    if state is not None and state.type == StateType.CRASHED:
        return "the worker running this job stopped unexpectedly (crashed)"
    text = (state.message if state else "") or "the job failed"
    text = text.removeprefix("Flow run encountered an exception: ")
    return text.splitlines()[0][:500]


WEBHOOK_PREFIX = "reelflow.webhook."


def webhook_state(run: FlowRun) -> dict[str, Any] | None:
    """Delivery state of the run's terminal webhook, from its labels (None when the request had no webhookUrl)."""
    labels = run.labels or {}
    request = (run.parameters or {}).get("request")
    if not isinstance(request, dict) or not request.get("webhookUrl"):
        return None
    return {
        "status": str(labels.get(f"{WEBHOOK_PREFIX}status", "pending")),
        "attempts": int(labels.get(f"{WEBHOOK_PREFIX}attempts", 0) or 0),
        "last_error": labels.get(f"{WEBHOOK_PREFIX}last_error") or None,
    }


def status_body(run: FlowRun, result: dict[str, Any] | None) -> dict[str, Any]:
    """The ``/status`` JSON for a run (``result`` already has its links)."""
    status = api_status(run)
    details = stage_details(run)
    stage = str((run.labels or {}).get("reelflow.stage", "")) or None
    body: dict[str, Any] = {"request_id": str(run.id), "status": status, "progress": progress_of(run, status),
                            "stage": stage, "details": details}
    if status == COMPLETED:
        body["result"] = result
        local = local_parts((result or {}).get("renderers") or {})
        body["message"] = "All done!" + (f" Rendered locally: {', '.join(local)}." if local else "")
    elif status == FAILED:
        body["message"] = failure_message(run)
    elif status == CANCELLED:
        body["message"] = "The request was cancelled."
    elif status == PENDING:
        body["message"] = "Waiting for a worker."
    elif will_requeue(run):
        body["message"] = "The worker running this job stopped; it is being re-queued and resumes where it stopped."
    else:
        body["message"] = f"Processing: {stage}." if stage else "Processing..."
    webhook = webhook_state(run)
    if webhook is not None:
        body["webhook"] = webhook
    return body
