"""The reconciler: what state hooks cannot do when a process dies.

Every few seconds (``REELFLOW_RECONCILE_INTERVAL``) it
1. re-queues runs that Crashed (their worker died; a Prefect automation marks silent runs Crashed when their
   heartbeats stop) or that stayed Pending longer than ``REELFLOW_PENDING_TIMEOUT`` (their worker died before
   starting them), under the same ``request_id``, up to ``REELFLOW_REQUEUE_LIMIT`` times — the rerun resumes from every
   cached asset — and after that fails them with a message saying so;
2. starts the webhook delivery of every finished run whose callback is still owed and due, and re-dispatches one
   whose delivery run died (Crashed, stuck, lost with its process: its lease ran out) as a new attempt with the
   same ``webhook-id``;
3. repairs the intake: writes the terminal record of dispatched jobs whose run ended without its hook running
   (killed process, a re-queued run that finally failed), cancels runs whose cancel arrived while the
   dispatcher was creating them but could not be applied then, and puts right the row's copy of a webhook's
   delivery state where a delivery could not write it (:mod:`flows.webhook_copies`).
Every list is read page by page, oldest first, and deliveries are started round-robin across API keys, at most
``DELIVERIES_PER_PASS`` per pass, so one tenant's backlog cannot push another tenant's callbacks to the back.
It runs as a thread of the embedded runner and as ``reelflow reconcile`` next to a work pool; running it twice is
safe (deliveries are created with idempotency keys and guarded by a lease).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prefect.automations import Automation
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed, Failed, Scheduled

from core import intake
from core.intake_db import IntakeNotConfigured, call_sync, intake_url
from core.jobstate import JOB_TAG, MESSAGE, REQUEUES, SERVICE_TAG, JobLabels
from core.settings import get_settings
from flows.records import cancel_state, record_terminal
from flows.status import WEBHOOK_PREFIX, is_terminal
from flows.webhook_copies import repair_webhook_copies
from flows.webhooks import PENDING_TAG, owed, start_delivery
from tasks.webhooks import owner_key_id

log = logging.getLogger(__name__)
CRASH_AUTOMATION = "reelflow: crash silent flow runs"
REPAIR_BATCH = 100
PAGE = 200
DELIVERIES_PER_PASS = 20


def ensure_crash_automation() -> None:
    """A Prefect automation that marks a flow run Crashed when its heartbeats stop (its process or host died)."""
    grace = get_settings().heartbeat_grace
    automation = Automation(
        name=CRASH_AUTOMATION,
        description=f"No heartbeat for {grace} s: the run's process is gone.",
        trigger=EventTrigger(
            # after a run starts (or beats), the next beat or a state change must come within the grace period
            after={"prefect.flow-run.heartbeat", "prefect.flow-run.Running"},
            expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed", "prefect.flow-run.Scheduled",
                    "prefect.flow-run.Cancelling", "prefect.flow-run.Paused"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=grace),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message=f"no heartbeat for {grace} s: the worker running this job died")],
    )
    with get_client(sync_client=True) as client:
        for existing in client.read_automations_by_name(CRASH_AUTOMATION):
            if existing.trigger == automation.trigger and existing.actions == automation.actions:
                return
            client.delete_automation(existing.id)
    automation.create()


def requeue_or_fail(client: SyncPrefectClient, run: FlowRun) -> None:
    limit = get_settings().requeue_limit
    done = JobLabels.of(run.labels).requeues
    if done < limit:
        client.update_flow_run_labels(run.id, {REQUEUES: done + 1})
        client.set_flow_run_state(run.id, Scheduled(message=f"re-queued after its worker died ({done + 1}/{limit})"),
                                  force=True)
        log.warning("re-queued %s after its worker died (%d/%d)", run.id, done + 1, limit)
        return
    message = f"the worker running this job died {done + 1} times; gave up after {limit} re-queues"
    client.update_flow_run_labels(run.id, {MESSAGE: message})
    client.set_flow_run_state(run.id, Failed(message=message), force=True)
    log.error("%s: %s", run.id, message)


def _all(client: SyncPrefectClient, flow_run_filter: FlowRunFilter, size: int = PAGE) -> list[FlowRun]:
    """Every matching run, oldest first, read page by page (a backlog larger than one page is still seen whole)."""
    runs: list[FlowRun] = []
    while True:
        page = client.read_flow_runs(flow_run_filter=flow_run_filter, sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                                     limit=size, offset=len(runs))
        runs.extend(page)
        if len(page) < size:
            return runs


def fair(runs: list[FlowRun]) -> list[FlowRun]:
    """Round-robin across owner keys, each key's runs in their order: one tenant's backlog cannot go first."""
    queues: dict[str, deque[FlowRun]] = {}
    for run in runs:
        queues.setdefault(owner_key_id(run.tags), deque()).append(run)
    ordered: list[FlowRun] = []
    while queues:
        for key in list(queues):
            ordered.append(queues[key].popleft())
            if not queues[key]:
                del queues[key]
    return ordered


def _by_state(*types: StateType, tags: list[str]) -> FlowRunFilter:
    return FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(types))),
                         tags=FlowRunFilterTags(all_=tags))


def delivery_lost(client: SyncPrefectClient, run: FlowRun) -> bool:
    """Whether the owed delivery's last dispatch is gone (Crashed, Failed, stuck, lost with its process).

    Called once the run's lease has expired: a delivery that started would have renewed it, so unless its run is
    still waiting in the queue (Scheduled), it is dead; a dead run still marked Running or Pending is marked Crashed
    so the UI tells the truth.
    """
    recorded = (run.labels or {}).get(f"{WEBHOOK_PREFIX}run")
    if not recorded:
        return True
    try:
        delivery = client.read_flow_run(UUID(str(recorded)))
    except ObjectNotFound:
        return True
    state = delivery.state
    if state is not None and state.type == StateType.SCHEDULED:
        return False
    if state is not None and state.type in (StateType.RUNNING, StateType.PENDING):
        client.set_flow_run_state(delivery.id, Crashed(message="lost: its lease expired; delivery re-queued"),
                                  force=True)
    return True


def reconcile_once(client: SyncPrefectClient, start: Callable[[FlowRun, SyncPrefectClient], None] = start_delivery,
                   budget: int = DELIVERIES_PER_PASS, page: int = PAGE) -> None:
    """One pass. ``start`` creates a delivery run and ``budget`` caps how many one pass creates, taken round-robin
    across keys, so a tenant with hundreds of owed callbacks cannot push another tenant's to the back; ``page`` is
    the read page size."""
    for run in _all(client, _by_state(StateType.CRASHED, tags=[SERVICE_TAG, JOB_TAG]), page):
        requeue_or_fail(client, run)
    now = time.time()
    # A worker that died after claiming a run (Pending) but before it started sent no heartbeat: a job Pending for
    # longer than REELFLOW_PENDING_TIMEOUT has lost its worker too (container pools may need a longer timeout).
    timeout = get_settings().pending_timeout
    for run in _all(client, _by_state(StateType.PENDING, tags=[JOB_TAG]), page):
        if run.state is not None and run.state.timestamp.timestamp() < now - timeout:
            requeue_or_fail(client, run)
    finished = _all(client, _by_state(StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, tags=[PENDING_TAG]),
                    page)
    started = 0
    for run in fair([run for run in finished if owed(run, now)]):
        if started >= budget:
            break
        if delivery_lost(client, run):
            start(run, client)
            started += 1
    repair_intake(client)
    if (url := _intake()) is not None:
        repair_webhook_copies(client, finished, url)


def repair_intake(client: SyncPrefectClient) -> None:
    """Terminal records the hooks missed, and cancels that reached a run only after it was created."""
    url = _intake()
    if url is None:
        return
    rows = call_sync(url, lambda engine: intake.unsettled(engine, REPAIR_BATCH))
    by_run = {row.flow_run_id: row for row in rows if row.flow_run_id}
    if not by_run:
        return
    runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(by_run))),
                                 limit=len(by_run))
    for run in runs:
        row = by_run[str(run.id)]
        if is_terminal(run):
            record_terminal(run)
        elif row.cancel_requested and run.state is not None and run.state.type != StateType.CANCELLING:
            client.set_flow_run_state(run.id, cancel_state(run), force=True)


def _intake() -> str | None:
    try:
        return intake_url(get_settings())
    except IntakeNotConfigured:
        return None


def run_forever(stop: threading.Event) -> None:
    """The reconciler loop; errors are logged and the next pass tries again."""
    interval = get_settings().reconcile_interval
    started = datetime.now(tz=UTC)
    log.info("reconciler started at %s, every %.1f s", started.isoformat(timespec="seconds"), interval)
    while not stop.wait(interval):
        try:
            with get_client(sync_client=True) as client:
                reconcile_once(client)
        except Exception as exc:
            log.warning("reconciler pass failed: %s", exc)


def start_in_background() -> threading.Event:
    """Start the loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="reelflow-reconciler", daemon=True).start()
    return stop
