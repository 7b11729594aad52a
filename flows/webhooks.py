"""Terminal webhooks that arrive: a delivery flow per event, with its state kept on the job's own flow run.

The job run's labels hold the delivery state (``reelflow.webhook.status|attempts|last_error|next_at|lease``), so
the reconciler can find what is still owed and the UI shows it; what ``/status`` shows of it (status, attempts,
last error) is copied to the intake row with every write, so a finished job's status never reads Prefect. A delivery run
posts (each attempt a task run, visible in the UI), waits in place for short retry delays and hands long ones back
to the reconciler through ``next_at``; a lease keeps two deliveries of one event from running at once.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any
from uuid import UUID

from prefect import Flow, flow, get_run_logger
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import State

from core.jobstate import WEBHOOK_PENDING_TAG, JobLabels
from core.links import result_with_links
from core.settings import get_settings
from flows.names import DELIVER_WEBHOOK
from flows.records import record_terminal, record_webhook
from flows.status import COMPLETED, WEBHOOK_PREFIX, api_status, is_terminal, request_id_of, status_body
from providers.webhook_sender import message_id
from tasks.webhooks import owner_key_id, post_webhook

log = logging.getLogger(__name__)
PENDING_TAG = WEBHOOK_PENDING_TAG
final = is_terminal  # settled for good: Completed, Failed or Cancelled (a Crashed run may still be re-queued)
LEASE_MARGIN = 10.0  # seconds past an attempt's deadline for recording its outcome


def webhook_url(run: FlowRun) -> str | None:
    request = (run.parameters or {}).get("request")
    return request.get("webhookUrl") if isinstance(request, dict) else None


def schedule() -> list[float]:
    return [float(x) for x in get_settings().webhook_schedule.split(",") if x.strip()]


def _label(run: FlowRun, name: str, default: Any = None) -> Any:
    return (run.labels or {}).get(f"{WEBHOOK_PREFIX}{name}", default)


def settled(run: FlowRun) -> bool:
    """The callback of the run's current terminal event is delivered or given up: nothing more to send."""
    return _label(run, "event") == api_status(run) and _label(run, "status") in ("delivered", "failed")


def owed(run: FlowRun, now: float) -> bool:
    """A terminal run whose webhook is neither delivered nor given up, is due, and has no delivery in flight."""
    if webhook_url(run) is None or not final(run) or settled(run):
        return False
    return float(_label(run, "next_at", 0) or 0) <= now and float(_label(run, "lease", 0) or 0) <= now


def start_delivery(run: FlowRun, client: SyncPrefectClient | None = None) -> None:
    """Create a delivery run for the run's terminal event.

    Each dispatch gets the next number in its idempotency key: two starters racing on the same labels (state hook
    and reconciler) create one run, while a re-dispatch after a delivery run died gets a new run instead of
    Prefect handing back the dead one. The dispatch lease covers the wait for a runner slot
    (``REELFLOW_PENDING_TIMEOUT``) and is written before the run exists, so a delivery that starts at once and
    leases its first attempt is never overwritten; the delivery's attempts then lease ``REELFLOW_WEBHOOK_TIMEOUT``
    plus a margin.
    """
    if client is None:
        with get_client(sync_client=True) as own:
            start_delivery(run, own)
        return
    event = api_status(run)
    same = _label(run, "event") == event
    dispatch = int(_label(run, "dispatch", 0) or 0) + 1 if same else 1
    lease = time.time() + get_settings().pending_timeout
    fields: dict[str, Any] = {"event": event, "dispatch": dispatch, "lease": lease}
    if not same:
        fields.update(status="pending", attempts=0, last_error="", next_at=0)
    _record(client, run, **fields)
    try:
        delivery = run_deployment(DELIVER_WEBHOOK, parameters={"request_id": str(run.id)}, timeout=0,
                                  as_subflow=False, idempotency_key=f"webhook:{run.id}:{event}:{dispatch}",
                                  tags=["reelflow"])
    except Exception:
        _record(client, run, lease=0)  # the next reconciler pass tries again
        raise
    _record(client, run, run=str(delivery.id))


def owes_bookkeeping(run: FlowRun) -> bool:
    """Whether a job run has a terminal record or a callback to see to: an intake row (its request id label) or a
    ``webhookUrl``. ``run`` may be the engine's own, whose parameters are the flow's Python objects, not JSON."""
    request = (run.parameters or {}).get("request")
    url = request.get("webhookUrl") if isinstance(request, dict) else getattr(request, "webhookUrl", None)
    return JobLabels.of(run.labels).request_id is not None or url is not None


def on_terminal(flow_: Flow[Any, Any], run: FlowRun, state: State[Any]) -> None:
    """State hook of the job flows: the terminal record, then the callback. The reconciler covers runs whose
    process died (and repairs either when this hook could not finish). A direct run with neither (a flow called
    in process, without a callback) reads nothing back."""
    if not owes_bookkeeping(run):
        return
    try:
        with get_client(sync_client=True) as client:
            fresh = client.read_flow_run(run.id)
        record_terminal(fresh)
        if webhook_url(fresh) is not None:
            start_delivery(fresh)
    except Exception as exc:  # the reconciler will deliver it; never fail the job over its callback
        log.warning("could not finish the bookkeeping of %s now (%s); the reconciler will", run.id, exc)


def _record(client: SyncPrefectClient, job: FlowRun, **fields: Any) -> bool:
    """Write delivery fields as the job run's labels, then copy the ``/status`` ones to the intake row (best
    effort); True when that copy is up to date. (``job``, not ``run``: ``run`` is a field, the delivery's id.)"""
    client.update_flow_run_labels(job.id, {f"{WEBHOOK_PREFIX}{k}": v for k, v in fields.items()})
    return record_webhook(job, fields)


def _finish(client: SyncPrefectClient, run: FlowRun, **fields: Any) -> None:
    """Settle the delivery. The run stops owing its callback (the tag goes) only once the intake's copy says so
    too: otherwise the reconciler, which lists tagged runs, repairs the copy and then drops the tag."""
    if _record(client, run, lease=0, next_at=0, **fields):
        client.update_flow_run(run.id, tags=[t for t in (run.tags or []) if t != PENDING_TAG])


@flow(name="deliver-webhook", flow_run_name="webhook-{request_id}", log_prints=False)
def deliver_webhook(request_id: str) -> str:
    """Deliver the terminal callback of one request, retrying on the configured schedule."""
    logger = get_run_logger()
    settings = get_settings()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(request_id))
        url, event = webhook_url(run), api_status(run)
        if url is None or not final(run):
            return "nothing to deliver"
        if settled(run):
            return str(_label(run, "status"))
        same = _label(run, "event") == event
        attempts = int(_label(run, "attempts", 0) or 0) if same else 0
        owner = owner_key_id(run.tags)
        result = result_with_links(request_id_of(run)) if event == COMPLETED else None
        payload = {k: v for k, v in status_body(run, result).items() if k != "webhook"}
        msg_id = message_id(request_id, event)
        delays = schedule()
        while True:
            # counted before the POST: if this process dies mid-POST, the re-dispatch makes the next attempt
            attempts += 1
            _record(client, run, event=event, status="pending", attempts=attempts,
                    lease=time.time() + settings.webhook_timeout + LEASE_MARGIN)
            attempt = post_webhook(url, payload, msg_id, attempts, owner)
            if attempt.outcome == "delivered":
                _finish(client, run, status="delivered", attempts=attempts, last_error="")
                logger.info("webhook %s delivered on attempt %d", msg_id, attempts)
                return "delivered"
            if attempt.outcome == "give_up" or attempts > len(delays):
                _finish(client, run, status="failed", attempts=attempts, last_error=attempt.error)
                logger.warning("webhook %s failed: %s", msg_id, attempt.error)
                return "failed"
            delay = max(delays[attempts - 1] * random.uniform(0.8, 1.2), attempt.retry_after or 0.0)
            due = time.time() + delay
            inline = delay <= settings.webhook_inline_wait
            lease = due + settings.webhook_timeout + LEASE_MARGIN if inline else 0
            _record(client, run, status="pending", attempts=attempts, last_error=attempt.error, next_at=due,
                    lease=lease)
            if not inline:
                logger.info("webhook %s: attempt %d failed (%s); next in %.0f s", msg_id, attempts, attempt.error,
                            delay)
                return "pending"
            time.sleep(delay)
