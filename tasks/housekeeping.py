"""The retention flow's steps: delete what is older than ``REELFLOW_RETENTION_DAYS``, each step one task.

Jobs first (by the age of their files; their flow runs name the owner, so the tombstone that makes ``/status``
answer 410 can name it too), then flow runs that ended before the cutoff (failed jobs without media, webhook
deliveries, batches), then cache entries no remaining job references, then Prefect's persisted task results.
Each task returns what it freed as plain JSON (files, bytes, jobs), logged by the flow.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prefect import get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterEndTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound

from core.housekeeping import Freed, job_ids_older_than, sweep_cache, sweep_job, sweep_older_than
from core.jobstate import JOB_TAG, owner_tag, request_tag
from core.settings import get_settings
from core.storage import open_storage

FINISHED = [StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED]
PAGE = 200


def _owner(tags: list[str]) -> str | None:
    prefix = owner_tag("")
    return next((tag.removeprefix(prefix) for tag in tags if tag.startswith(prefix)), None)


def _request_id(tags: list[str]) -> str | None:
    prefix = request_tag("")
    return next((tag.removeprefix(prefix) for tag in tags if tag.startswith(prefix)), None)


@task(name="sweep-runs", task_run_name="sweep-runs", result_serializer="json")
def sweep_runs(cutoff: float) -> dict[str, Any]:
    """Delete flow runs that finished before ``cutoff`` (Prefect deletes their task runs and logs with them),
    and the media of those that were jobs, leaving a tombstone naming the owner."""
    store, freed, runs = open_storage(get_settings().media_url), Freed(), 0
    ended = FlowRunFilter(end_time=FlowRunFilterEndTime(before_=datetime.fromtimestamp(cutoff, tz=UTC)),
                          state=FlowRunFilterState(type=FlowRunFilterStateType(any_=FINISHED)))
    with get_client(sync_client=True) as client:
        while batch := client.read_flow_runs(flow_run_filter=ended, limit=PAGE):
            for run in batch:
                if JOB_TAG in (run.tags or []):
                    freed = freed.add(sweep_job(store, _request_id(run.tags or []) or str(run.id),
                                                _owner(run.tags or [])))
                client.delete_flow_run(run.id)
                runs += 1
            if len(batch) < PAGE:
                break
    get_run_logger().info("deleted %d flow runs older than the cutoff and the media of %d jobs (%d files, %d bytes)",
                          runs, len(freed.jobs), freed.files, freed.bytes)
    return {"flow_runs": runs, **freed.as_dict()}


@task(name="sweep-jobs", task_run_name="sweep-jobs", result_serializer="json")
def sweep_old_jobs(cutoff: float) -> dict[str, Any]:
    """Jobs whose files are all older than ``cutoff``: their media, a tombstone naming the owner (from the flow
    run's ``key:`` tag while the run exists), and the flow run itself. A job's age is the age of its files, so
    a job whose media is past retention goes as a whole even if its run ended later (e.g. it was re-queued)."""
    store, freed, runs = open_storage(get_settings().media_url), Freed(), 0
    with get_client(sync_client=True) as client:
        for request_id in job_ids_older_than(store, cutoff):
            found = client.read_flow_runs(  # the intake's request id is a tag of its runs (one per re-dispatch)
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[request_tag(request_id)])))
            with contextlib.suppress(ValueError, ObjectNotFound):  # a direct run: its own id is the request id
                found = found or [client.read_flow_run(UUID(request_id))]
            freed = freed.add(sweep_job(store, request_id, _owner(found[0].tags or []) if found else None))
            for run in found:
                client.delete_flow_run(run.id)
                runs += 1
    get_run_logger().info("deleted %d jobs past retention (%d files, %d bytes) and %d of their flow runs",
                          len(freed.jobs), freed.files, freed.bytes, runs)
    return {"flow_runs": runs, **freed.as_dict()}


@task(name="sweep-cache", task_run_name="sweep-cache", result_serializer="json")
def sweep_unreferenced_cache(cutoff: float) -> dict[str, Any]:
    """Cache entries older than ``cutoff`` that no remaining job's result names."""
    freed = sweep_cache(open_storage(get_settings().media_url), cutoff)
    get_run_logger().info("deleted %d unreferenced cache files (%d bytes)", freed.files, freed.bytes)
    return freed.as_dict()


@task(name="sweep-results", task_run_name="sweep-results", result_serializer="json")
def sweep_results(cutoff: float) -> dict[str, Any]:
    """Prefect's persisted task results older than ``cutoff`` (a task whose record is gone simply runs again)."""
    freed = sweep_older_than(open_storage(get_settings().results_url), "", cutoff)
    get_run_logger().info("deleted %d task result files (%d bytes)", freed.files, freed.bytes)
    return freed.as_dict()
