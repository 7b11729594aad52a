"""The batch flow: a JSONL manifest of create_narrative / create_movie bodies → one job per line, N at a time.

Each valid line becomes its own job through the intake, exactly as the API creates one (same row, same
dispatcher, same run tags plus ``batch:<id>``), so its ``request_id`` works with ``/status`` for the key that owns
the batch, crash recovery and webhooks apply to it, any worker can run it, and it counts against the owner's
``REELFLOW_MAX_ACTIVE_PER_KEY`` (a line that would exceed it waits for the next round instead of failing). Jobs are
submitted with idempotency keys ``batch:<batch id>:<line>``: a batch re-queued after its worker died finds the jobs
it had already started instead of starting them twice.

Nothing is started unless every line is valid (``skip_invalid`` starts the valid ones and reports the rest). When
every job has settled the flow publishes a summary artifact (line, request_id, status, video link); it fails, after
publishing, when any job did not complete, so the batch's own state says whether the whole batch worked.
"""

from __future__ import annotations

import time
from collections import deque
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.runtime import flow_run
from pydantic import BaseModel

from core import intake
from core.errors import JobFailed
from core.intake_db import call_sync, intake_url
from core.jobstate import BATCH_FINISHED, BATCH_TOTAL, FAILED, PENDING, PROGRESS, STAGE, is_terminal
from core.links import result_with_links
from core.manifest import BatchRequest, Manifest, ManifestLine
from core.secrets import api_keys, key_id
from core.settings import get_settings
from flows.names import MOVIE, NARRATIVE
from flows.status import COMPLETED, api_status, failure_message
from tasks.batch import read_manifest


class BatchRow(BaseModel):
    """One line of the summary: the job it became and how it ended."""

    line: int
    type: str
    request_id: str = ""
    status: str = PENDING
    video_url: str = ""
    message: str = ""


class BatchSummary(BaseModel):
    """What the batch returns: every line, started or skipped."""

    batch_id: str
    rows: list[BatchRow]

    @property
    def completed(self) -> int:
        return sum(1 for row in self.rows if row.status == COMPLETED)


def run_name() -> str:
    return f"batch-{str(flow_run.get_id() or 'local')[:8]}"


def batch_id() -> str:
    return str(flow_run.get_id() or "local")


def batch_tag(batch: str) -> str:
    return f"batch:{batch[:8]}"


def start(url: str, line: ManifestLine, owner: str, batch: str) -> str | None:
    """Submit the job of one line (idempotent per batch and line); None while the owner is at its limit."""
    deployment = NARRATIVE if line.type == "narrative" else MOVIE
    try:
        request_id, _ = call_sync(url, lambda engine: intake.submit(
            engine, key_id=owner, kind=deployment, parameters={"request": line.body},
            idempotency=f"batch:{batch}:{line.line}", webhook=line.webhook,
            limit=get_settings().max_active_per_key, tags=(batch_tag(batch),)))
    except intake.AdmissionRefused:
        return None
    return request_id


def follow(client: SyncPrefectClient, url: str, in_flight: dict[str, BatchRow]) -> list[BatchRow]:
    """Update the rows of the jobs in flight; the ones that ended (their video link or reason filled in)."""
    rows = call_sync(url, lambda engine: intake.many(engine, list(in_flight)))
    live = {row.flow_run_id: row for row in rows if row.record is None and row.flow_run_id}
    runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(i) for i in live])),
                                 limit=len(live)) if live else []
    statuses = {row.request_id: (row.status, (row.record or {}).get("message", ""))
                for row in rows if row.record is not None}
    for run in runs:
        status = api_status(run)
        statuses[live[str(run.id)].request_id] = (status, failure_message(run) if status == FAILED else "")
    ended = []
    for request_id, (status, message) in statuses.items():
        summary = in_flight[request_id]
        summary.status = status
        if is_terminal(status):
            if status == COMPLETED:
                result = result_with_links(request_id)
                summary.video_url = str(result["videoUrl"]) if result else ""
            elif status == FAILED:
                summary.message = str(message)
            ended.append(summary)
    return ended


def run_jobs(client: SyncPrefectClient, lines: list[ManifestLine], rows: dict[int, BatchRow], request: BatchRequest,
             owner: str, batch: str) -> None:
    """Keep at most ``max_in_flight`` jobs active until every line's job has settled."""
    logger = get_run_logger()
    url = intake_url(get_settings())
    waiting: deque[ManifestLine] = deque(lines)
    in_flight: dict[str, BatchRow] = {}
    finished = 0
    while waiting or in_flight:
        while waiting and len(in_flight) < request.max_in_flight:
            line = waiting[0]
            request_id = start(url, line, owner, batch)
            if request_id is None:
                logger.info("line %d waits: its owner has REELFLOW_MAX_ACTIVE_PER_KEY jobs active", line.line)
                break
            waiting.popleft()
            rows[line.line].request_id = request_id
            in_flight[request_id] = rows[line.line]
            logger.info("line %d: submitted %s %s", line.line, line.type, request_id)
        time.sleep(request.poll_interval)
        for row in follow(client, url, in_flight):
            del in_flight[row.request_id]
            finished += 1
            logger.info("line %d: %s %s", row.line, row.request_id, row.status)
        client.update_flow_run_labels(UUID(batch), {
            PROGRESS: int(99 * finished / max(len(lines), 1)), STAGE: "batch",
            BATCH_FINISHED: finished, BATCH_TOTAL: len(lines)})


def summary_markdown(summary: BatchSummary) -> str:
    rows = []
    for row in summary.rows:
        video = f"[video]({row.video_url})" if row.video_url else ""
        note = row.message.replace("|", "/").replace("\n", " ")
        rows.append(f"| {row.line} | {row.type} | `{row.request_id or '-'}` | {row.status} | {video} {note} |")
    started = sum(1 for row in summary.rows if row.request_id)
    skipped = f" ({len(summary.rows) - started} invalid lines skipped)" if started < len(summary.rows) else ""
    return "\n".join([
        f"# Batch {summary.batch_id[:8]}: {summary.completed} of {started} jobs completed{skipped}", "",
        "| line | type | request_id | status | video |", "|---|---|---|---|---|", *rows,
    ])


def invalid_markdown(manifest: Manifest, source: str) -> str:
    rows = [f"| {e.line} | {e.message.replace('|', '/')} |" for e in manifest.errors]
    return "\n".join([f"# Invalid manifest lines in `{source}`", "", "| line | error |", "|---|---|", *rows])


def owner_of(request: BatchRequest) -> str:
    """The key_id that owns the jobs: the request's, else this server's first API key."""
    return request.owner or key_id(api_keys(get_settings())[0])


@flow(name="batch", flow_run_name=run_name, log_prints=False, result_serializer="json")
def batch(request: BatchRequest) -> BatchSummary:
    """Validate a manifest, run one job per valid line with bounded concurrency, publish a summary."""
    logger = get_run_logger()
    this = batch_id()
    manifest = read_manifest(request.manifest)
    if manifest.errors:
        create_markdown_artifact(invalid_markdown(manifest, request.manifest), key=f"batch-{this[:8]}-invalid",
                                 description="Manifest lines that were not started")
        if not request.skip_invalid or not manifest.lines:
            raise JobFailed(f"{len(manifest.errors)} of {manifest.total} manifest lines are invalid; nothing was "
                            f"started:\n{manifest.report()}")
        logger.warning("skipping %d invalid lines:\n%s", len(manifest.errors), manifest.report())
    rows: dict[int, BatchRow] = {line.line: BatchRow(line=line.line, type=line.type) for line in manifest.lines}
    for error in manifest.errors:
        rows[error.line] = BatchRow(line=error.line, type="-", status="SKIPPED", message=error.message)
    with get_client(sync_client=True) as client:
        run_jobs(client, manifest.lines, rows, request, owner_of(request), this)
    summary = BatchSummary(batch_id=this, rows=[rows[n] for n in sorted(rows)])
    create_markdown_artifact(summary_markdown(summary), key=f"batch-{this[:8]}", description="Batch summary")
    started = [row for row in summary.rows if row.request_id]
    if summary.completed < len(started):
        raise JobFailed(f"{len(started) - summary.completed} of {len(started)} jobs did not complete")
    logger.info("batch done: %d of %d jobs completed", summary.completed, len(started))
    return summary

