"""Prefect flow-run state → the seed's ``/status`` body (also the body of every webhook).

One ``read_flow_run`` carries everything: the state, and the labels the flow writes as it goes (progress, current
stage, per-stage states, and a plain failure message). The result of a COMPLETED run is read from the
``result.json`` the flow publishes next to the video.
"""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import FlowRun, StateType

from core.jobstate import (
    CANCELLED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    JOB_TAG,
    PENDING,
    WEBHOOK_PREFIX,
    JobLabels,
    WebhookState,
)
from core.jobstate import is_terminal as is_terminal_status
from core.results import local_parts
from core.settings import get_settings

__all__ = ["CANCELLED", "COMPLETED", "FAILED", "IN_PROGRESS", "PENDING", "WEBHOOK_PREFIX", "api_status",
           "failure_message", "is_terminal", "request_id_of", "status_body", "webhook_state", "will_requeue"]
RETRYING_NAMES = {"AwaitingRetry", "Retrying"}

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
    if run.state is None or run.state.type != StateType.CRASHED or JOB_TAG not in (run.tags or []):
        return False
    return JobLabels.of(run.labels).requeues < get_settings().requeue_limit


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
    """The run has ended for good (Completed, Failed, Cancelled): :func:`core.jobstate.is_terminal` of its state."""
    return run.state is not None and is_terminal_status(run.state.type.value)


def request_id_of(run: FlowRun) -> str:
    """The request id the caller knows: the intake's (a label), or the run's own id for runs made before it."""
    return JobLabels.of(run.labels).request_id or str(run.id)


def progress_of(run: FlowRun, status: str) -> int:
    """0–100 from the flow's labels; 100 only when COMPLETED, never above 99 before."""
    if status == COMPLETED:
        return 100
    return min(99, JobLabels.of(run.labels).progress)


def failure_message(run: FlowRun) -> str:
    """A plain reason for a FAILED run: the flow's own message, else the state's, never a stack trace."""
    message = JobLabels.of(run.labels).message
    if message:
        return message
    state = run.state
    if state is not None and state.type == StateType.CRASHED:
        return "the worker running this job stopped unexpectedly (crashed)"
    text = (state.message if state else "") or "the job failed"
    text = text.removeprefix("Flow run encountered an exception: ")
    return text.splitlines()[0][:500]


def webhook_state(run: FlowRun) -> dict[str, Any] | None:
    """Delivery state of the run's terminal webhook, from its labels (None when the request had no webhookUrl)."""
    request = (run.parameters or {}).get("request")
    if not isinstance(request, dict) or not request.get("webhookUrl"):
        return None
    return WebhookState.of(run.labels, WEBHOOK_PREFIX).model_dump()


def completed_message(result: dict[str, Any] | None) -> str:
    """A COMPLETED job's message: "All done!", plus which kinds the local renderers made when vendors made the rest.

    Read from the result, so a terminal record (stored without its result) gets it right when served with one.
    """
    local = local_parts((result or {}).get("renderers") or {})
    return "All done!" + (f" Rendered locally: {', '.join(local)}." if local else "")


def status_body(run: FlowRun, result: dict[str, Any] | None) -> dict[str, Any]:
    """The ``/status`` JSON for a run (``result`` already has its links)."""
    status = api_status(run)
    labels = JobLabels.of(run.labels)
    stage = labels.stage
    body: dict[str, Any] = {"request_id": request_id_of(run), "status": status, "progress": progress_of(run, status),
                            "stage": stage, "details": labels.stages}
    if status == COMPLETED:
        body["result"] = result
        body["message"] = completed_message(result)
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
