"""The flow side of the intake: a job's run name, "started", and the terminal record status reads once it ends.

The terminal record is the ``/status`` body the job ended with (without the result links, which are signed when
read, and without the webhook delivery state, which keeps changing and is copied to the row on its own by
:func:`record_webhook`). The job flows' terminal hook writes it; the reconciler writes it for runs whose hook never
ran (a killed process, a re-queued run that finally failed). Both are best effort and idempotent: the first record
wins.

A run that was not created through the intake (no ``reelflow.request_id`` label, e.g. a flow called directly in a
test) has no row, and these functions do nothing for it. Neither does a process that has no intake database
configured (the Prefect test harness).
"""

from __future__ import annotations

import logging
from typing import Any

from prefect.client.schemas.objects import FlowRun
from prefect.context import FlowRunContext
from prefect.states import Cancelled, Cancelling, State

from core import intake, intake_webhooks
from core.intake_db import IntakeNotConfigured, call_sync, intake_url
from core.jobstate import PENDING, WEBHOOK_FIELDS, JobLabels, run_name
from core.settings import get_settings
from flows.status import api_status, is_terminal, status_body

log = logging.getLogger(__name__)


def terminal_record(run: FlowRun) -> dict[str, Any]:
    """The record of a finished run: its status body, minus result links and webhook state."""
    body = status_body(run, None)
    body.pop("result", None)
    body.pop("webhook", None)
    return body


def cancel_state(run: FlowRun) -> State[Any]:
    """How to cancel a run: outright while no process has it (PENDING), else ask the running one to stop."""
    return Cancelled(message="Cancelled by the caller") if api_status(run) == PENDING else Cancelling()


def _url() -> str | None:
    try:
        return intake_url(get_settings())
    except IntakeNotConfigured:
        return None


def record_terminal(run: FlowRun) -> bool:
    """Write the run's terminal record to its intake row; True when written (or already there)."""
    request_id = JobLabels.of(run.labels).request_id
    url = _url()
    if request_id is None or url is None or not is_terminal(run):
        return False
    body = terminal_record(run)
    try:
        call_sync(url, lambda engine: intake.record(engine, request_id, api_status(run), body))
    except Exception as exc:  # the reconciler repairs it; never fail a job over its bookkeeping
        log.warning("could not record the end of %s (%s); the reconciler will", request_id, exc)
        return False
    return True


def record_webhook(run: FlowRun, fields: dict[str, Any]) -> bool:
    """Copy the delivery-state fields among ``fields`` (just written as the run's labels) to its intake row.

    True when the copy is up to date: written, nothing to copy, or no row to copy to. A failure is logged and
    answered False, never raised: the labels are written, the callback goes on, and the reconciler repairs the copy.
    """
    request_id = JobLabels.of(run.labels).request_id
    url = _url()
    if request_id is None or url is None or not WEBHOOK_FIELDS.intersection(fields):
        return True
    try:
        call_sync(url, lambda engine: intake_webhooks.merge(engine, request_id, fields))
    except Exception as exc:
        log.warning("could not copy the webhook state of %s to the intake (%s); the reconciler will", request_id, exc)
        return False
    return True


def mark_started() -> None:
    """Called when a job flow starts: its row becomes IN_PROGRESS (listings filter on it)."""
    request_id = current_request_id()
    url = _url()
    if request_id is None or url is None:
        return
    try:
        call_sync(url, lambda engine: intake.started(engine, request_id))
    except Exception as exc:
        log.warning("could not mark %s started: %s", request_id, exc)


def current_request_id() -> str | None:
    """The request id of the job flow running here, from its labels (None outside a run or for a direct run)."""
    ctx = FlowRunContext.get()
    return JobLabels.of(ctx.flow_run.labels).request_id if ctx and ctx.flow_run else None


def job_run_name(kind: str) -> str:
    """The run name of a job flow: the request id's prefix and the first words (``core.jobstate.run_name``)."""
    ctx = FlowRunContext.get()
    run = ctx.flow_run if ctx else None
    if run is None:
        return f"{kind}-local"
    request_id = JobLabels.of(run.labels).request_id or str(run.id)
    return run_name(request_id, run.parameters or {})
