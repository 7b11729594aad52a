"""Honest job progress: a weighted 0–100 and a per-stage map, published where status and the UI read them.

Progress goes to the flow run's labels (so a single ``read_flow_run`` gives state and progress to the API) and to
a progress artifact (so operators see a bar in the Prefect UI). It only ever increases; 100 is set at the very
end of the flow, and the API reports it only once the run is COMPLETED.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

from prefect.artifacts import create_progress_artifact
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.context import FlowRunContext

from core.jobstate import FAILED_STAGE, MESSAGE, PROGRESS, STAGE, STAGE_PREFIX, JobLabels
from flows.records import mark_started
from tasks.webhooks import notify_progress, owner_key_id

log = logging.getLogger(__name__)
# In-process observers (the CLI's progress bar): called with (percent, stage) after every change.
LISTENERS: list[Callable[[int, str], None]] = []
MIN_INTERVAL = 0.5  # seconds between two progress updates of one run


class Progress:
    """Counts finished units per stage and publishes the weighted total after each one."""

    def __init__(self, stages: dict[str, tuple[float, int]], webhook_url: str | None = None,
                 run_name: str | None = None) -> None:
        """``stages`` maps a stage name to (weight, number of units) in pipeline order; ``run_name``: the name the
        run should have (the publisher renames it when it has another: a run not made by the dispatcher)."""
        self._stages = {name: spec for name, spec in stages.items() if spec[1] > 0}
        self._done = dict.fromkeys(self._stages, 0)
        self._state = dict.fromkeys(self._stages, "INIT")
        self._lock = threading.Lock()
        self._publisher: _Publisher | None = None
        self._webhook_url = webhook_url
        ctx = FlowRunContext.get()
        self._flow_run_id = ctx.flow_run.id if ctx and ctx.flow_run else None
        self._rename = run_name if ctx and ctx.flow_run and run_name and ctx.flow_run.name != run_name else None
        self._owner = owner_key_id(ctx.flow_run.tags) if ctx and ctx.flow_run else ""
        # A re-run of the same request (retry, crash recovery) never shows less than it already showed.
        labels = JobLabels.of(ctx.flow_run.labels if ctx and ctx.flow_run else None)
        self._percent = min(99, labels.progress)
        self._request_id = labels.request_id or (str(self._flow_run_id) if self._flow_run_id else None)

    @property
    def percent(self) -> int:
        return self._percent

    def start(self) -> None:
        """Mark the intake row started, then publish the initial (0 %) state: the publisher names the run if it
        must and creates the UI progress bar first, in the background (each an API call the flow need not wait
        for)."""
        mark_started()
        if self._flow_run_id is not None:
            self._publisher = _Publisher(self._flow_run_id, self._webhook_url,
                                         self._request_id or str(self._flow_run_id), self._owner, self._rename)
            self._publisher.start()
        self._publish(next(iter(self._stages), ""))

    def begin(self, stage: str) -> None:
        with self._lock:
            if self._state.get(stage) == "INIT":
                self._state[stage] = "IN_PROGRESS"
        self._publish(stage)

    def step(self, stage: str) -> None:
        """One unit of ``stage`` finished."""
        with self._lock:
            self._done[stage] += 1
            weight, units = self._stages[stage]
            self._state[stage] = "COMPLETED" if self._done[stage] >= units else "IN_PROGRESS"
        self._publish(stage)

    def fail(self, stage: str, message: str) -> None:
        with self._lock:
            if stage in self._state:
                self._state[stage] = "FAILED"
        self._publish(stage, extra={MESSAGE: message, FAILED_STAGE: stage})
        self.close()

    def finish(self, meanwhile: Callable[[], None] | None = None) -> None:
        """Publish 100 % and wait until it is sent; ``meanwhile`` (the run's last artifacts) runs while it is, so
        the job's end costs one round trip to the API instead of several in a row."""
        with self._lock:
            self._state = dict.fromkeys(self._state, "COMPLETED")
            self._done = {name: spec[1] for name, spec in self._stages.items()}
        self._publish("", final=True)
        try:
            if meanwhile is not None:
                meanwhile()
        finally:
            self.close()

    def _compute(self, final: bool) -> int:
        total = sum(weight for weight, _ in self._stages.values()) or 1.0
        done = sum(weight * min(self._done[n], units) / units for n, (weight, units) in self._stages.items())
        return 100 if final else min(99, int(100 * done / total))

    def _current(self) -> str:
        """The earliest stage not yet completed, in pipeline order: moves forward only."""
        return next((name for name, state in self._state.items() if state != "COMPLETED"), "")

    def _publish(self, touched: str, *, final: bool = False, extra: dict[str, Any] | None = None) -> None:
        with self._lock:
            stage = touched if extra else self._current()
            self._percent = max(self._percent, self._compute(final))
            labels: dict[str, Any] = {PROGRESS: self._percent, STAGE: stage}
            labels.update({f"{STAGE_PREFIX}{name}": state for name, state in self._state.items()})
            labels.update(extra or {})
            percent = self._percent
        for listener in LISTENERS:
            listener(percent, stage)
        if self._publisher is not None:
            self._publisher.offer(labels, percent, stage)

    def close(self) -> None:
        """Wait until the last update is sent (before the run turns terminal, so status and UI agree)."""
        if self._publisher is not None:
            self._publisher.close()


class _Publisher(threading.Thread):
    """Sends the newest labels and bar position in the background, one client per run, bursts coalesced.

    Publishing inline cost more than the media work itself (two API calls per finished task, measured +9 s on a
    6-scene job); the flow only hands over the latest state and keeps rendering.
    """

    def __init__(self, flow_run_id: UUID, webhook_url: str | None, request_id: str, owner: str,
                 rename: str | None = None) -> None:
        super().__init__(name="reelflow-progress", daemon=True)
        self._flow_run_id, self._webhook_url = flow_run_id, webhook_url
        self._artifact_id: UUID | None = None
        self._bar = 0.0  # what the UI's bar shows: an update that would not move it is not sent
        self._request_id, self._owner, self._rename = request_id, owner, rename
        self._stage = ""
        self._notified: set[str] = set()
        self._wake = threading.Condition()
        self._labels: dict[str, Any] = {}
        self._percent: int | None = None
        self._closed = False
        self._context = contextvars.Context()

    def offer(self, labels: dict[str, Any], percent: int, stage: str) -> None:
        with self._wake:
            self._labels.update(labels)
            self._percent = percent
            self._stage = stage
            self._wake.notify()

    def close(self, timeout: float = 30.0) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self.join(timeout)

    def start(self) -> None:
        """Start sending, in the flow run's context: ``get_client`` there hands out the run's own API client, where a
        bare thread would build one of its own (an SSL context and connection pool per job, ~50 ms of CPU)."""
        self._context = contextvars.copy_context()
        super().start()

    def run(self) -> None:
        self._context.run(self._send_until_closed)

    def _send_until_closed(self) -> None:
        try:
            with get_client(sync_client=True) as client:
                self._prepare(client)
                while True:
                    with self._wake:
                        while not self._labels and not self._closed:
                            self._wake.wait()
                        labels, percent, stage = self._labels, self._percent, self._stage
                        self._labels, self._percent = {}, None
                        if not labels and self._closed:
                            return
                    self._send(client, labels, percent)
                    self._notify(stage, percent)
                    # At most two updates a second (the API server shares the CPU with ffmpeg): an offer does not
                    # cut this pause short, only the close does, so a burst of finished tasks is one update.
                    with self._wake:
                        self._wake.wait_for(lambda: self._closed, MIN_INTERVAL)
        except Exception as exc:  # best effort: never fail a render because the UI could not be told
            log.warning("progress publisher stopped: %s", exc)

    def _prepare(self, client: SyncPrefectClient) -> None:
        """Name the run (when the flow's own name for it differs) and create the UI's progress bar, best effort."""
        if self._rename:
            try:
                client.set_flow_run_name(self._flow_run_id, self._rename)
            except Exception as exc:
                log.warning("could not name the run %s: %s", self._rename, exc)
        try:
            key = f"progress-{str(self._flow_run_id)[:8]}"
            self._artifact_id = create_progress_artifact(self._bar, key=key, description="Job progress")
        except Exception as exc:  # progress is best effort; the job must not fail because of it
            log.warning("could not create the progress artifact: %s", exc)

    def _notify(self, stage: str, percent: int | None) -> None:
        """At most one IN_PROGRESS callback per stage change, best effort."""
        if not self._webhook_url or not stage or stage in self._notified or percent is None:
            return
        self._notified.add(stage)
        try:
            notify_progress(self._webhook_url, self._request_id, percent, stage, self._owner)
        except Exception as exc:
            log.info("progress callback failed: %s", exc)

    def _send(self, client: SyncPrefectClient, labels: dict[str, Any], percent: int | None) -> None:
        try:
            client.update_flow_run_labels(self._flow_run_id, labels)
            with self._wake:  # a newer state came meanwhile: the next round moves the bar to it
                if self._labels:
                    return
            if self._artifact_id is not None and percent is not None and float(percent) != self._bar:
                client.update_artifact(self._artifact_id, ArtifactUpdate(data=float(percent)))
                self._bar = float(percent)
        except Exception as exc:
            log.warning("could not publish progress: %s", exc)
