"""What ``reelflow reconcile`` and ``reelflow batch`` do: the operator's side of running on a work pool.

On a work pool no embedded runner hosts the reconciler, so ``reelflow reconcile`` runs it as its own process
(one is enough; two are safe). ``reelflow batch`` validates a manifest where the operator can see the report, then
hands it to the ``batch`` deployment, so the batch itself runs on a worker like any job. Both talk to the Prefect
API of ``PREFECT_API_URL``, else to the embedded stack's (``127.0.0.1:REELFLOW_PREFECT_PORT``), the one
``reelflow serve`` runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.jobstate import BATCH_FINISHED, JOB_TAG, SERVICE_TAG, owner_tag
from core.manifest import BatchRequest, Manifest
from core.secrets import api_keys, key_id
from core.settings import get_settings

log = logging.getLogger(__name__)


@contextlib.contextmanager
def service_api() -> Iterator[str]:
    """Point Prefect at the service: ``PREFECT_API_URL`` when set, else the embedded stack's address."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{get_settings().prefect_port}/api"
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


def reconcile() -> None:
    """Ensure the crash automation exists, then reconcile every few seconds until SIGTERM or SIGINT."""
    from flows.reconcile import ensure_crash_automation, run_forever

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    interval = get_settings().reconcile_interval
    with service_api() as url:
        log.info("reconciler for %s", url)
        while not stop.is_set():  # the Prefect server may still be starting: keep trying, never give up
            try:
                ensure_crash_automation()
                break
            except Exception as exc:
                log.warning("cannot reach Prefect at %s yet (%s); retrying", url, exc)
                stop.wait(interval)
        run_forever(stop)
    log.info("reconciler stopped")


def error_table(manifest: Manifest) -> Table:
    table = Table("line", "error", title=f"{len(manifest.errors)} of {manifest.total} lines are invalid")
    for error in manifest.errors:
        table.add_row(str(error.line or "-"), error.message)
    return table


def owner_id(api_key: str | None) -> str:
    """The key_id that will own the jobs: the given key's, else the first configured (or generated) key's."""
    return key_id(api_key or api_keys(get_settings())[0])


def staged_source(source: str) -> str:
    """A URL every worker can read: storage URLs as given, a local file copied into storage first."""
    if "://" in source:
        return source
    from tasks.batch import stage_manifest

    return stage_manifest(Path(source).read_bytes())


def submit(source: str, manifest: Manifest, request: dict[str, Any], console: Console) -> UUID:
    """Create the batch run on the ``batch`` deployment; its id."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    from flows.names import BATCH

    parameters = {"request": BatchRequest(manifest=staged_source(source), **request).model_dump(mode="json")}
    run: FlowRun = run_deployment(BATCH, parameters=parameters, timeout=0,  # type: ignore[assignment]
                                  tags=[owner_tag(request["owner"]), SERVICE_TAG, JOB_TAG])
    console.print(f"batch {run.id} started: {len(manifest.lines)} jobs, at most {request['max_in_flight']} at once")
    return run.id


def _finished(labels: dict[str, Any] | None) -> int:
    return int(float((labels or {}).get(BATCH_FINISHED, 0) or 0))


def follow(run_id: UUID, total: int, console: Console) -> bool:
    """Show the batch's progress until it settles, then its summary; True when every job completed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.status import is_terminal

    with get_client(sync_client=True) as client, Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TimeElapsedColumn(), console=console) as bar:
        job = bar.add_task("jobs settled", total=total)
        while not is_terminal(run := client.read_flow_run(run_id)):
            bar.update(job, completed=_finished(run.labels))
            time.sleep(1.0)
        bar.update(job, completed=_finished(run.labels))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    summary = next((a for a in artifacts if a.key == f"batch-{str(run_id)[:8]}"), None)
    if summary is not None:
        console.print(Markdown(str(summary.data)))
    ok = run.state is not None and run.state.is_completed()
    if not ok and run.state is not None:
        console.print(f"[red]batch {run.state.name}:[/red] {run.state.message}")
    return ok
