"""The embedded runner: every deployment in one Prefect runner (what ``reelflow serve`` starts).

Run as ``python -m deployments.serve``. The runner asks Prefect for new runs every ``POLL_SECONDS`` (Prefect's
default of 10 s, or the 1 s its integer setting allows, added on average half that to every job), runs as many at
once as ``REELFLOW_RUNNER_LIMIT`` says, and forks each flow-run process from a warm forkserver
(``deployments.warm_start``) instead of starting a fresh interpreter per job. The same process runs the reconciler
(re-queues crashed jobs, delivers owed webhooks) and makes sure the crash-detection automation exists.

``REELFLOW_BATCH_SCHEDULE`` (a cron, UTC) with ``REELFLOW_BATCH_MANIFEST`` gives the batch deployment the same
scheduled batch the work-pool deployment has (``deployments/prefect.yaml``): the Prefect server creates its runs
ahead of time (the UI shows the next one) and this runner executes them. Unset (the default), the deployment has no
schedule; serving it again without the variables removes a schedule set earlier. The retention deployment runs
daily on ``REELFLOW_RETENTION_CRON`` (flows/retention.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from prefect import Flow
from prefect.exceptions import TerminationSignal
from prefect.runner import Runner
from prefect.schedules import Cron, Schedule

from core.settings import Settings, get_settings
from deployments.warm_start import in_memory
from deployments.warm_start import install as install_warm_start
from flows.batch import batch
from flows.movie import movie
from flows.names import (
    BATCH_DEPLOYMENT,
    DELIVER_WEBHOOK_DEPLOYMENT,
    MOVIE_DEPLOYMENT,
    NARRATIVE_DEPLOYMENT,
    RETENTION_DEPLOYMENT,
)
from flows.narrative import narrative
from flows.reconcile import ensure_crash_automation, start_in_background
from flows.retention import retention
from flows.webhooks import deliver_webhook

#: Seconds between the runner's queries for scheduled runs: one indexed query on the Prefect server per poll.
POLL_SECONDS = 0.25
#: The scheduled batch's parameters besides the manifest (those of the nightly schedule in prefect.yaml).
SCHEDULED_BATCH: dict[str, Any] = {"skip_invalid": True, "max_in_flight": 4}


def batch_schedules(settings: Settings) -> list[Schedule]:
    """The scheduled batch of ``REELFLOW_BATCH_SCHEDULE``/``REELFLOW_BATCH_MANIFEST``, or none when unset.

    Raises ``ValueError`` with a sentence naming the variable when only one is set or the cron is invalid, so the
    runner stops at start (the supervisor shows the line) instead of failing every scheduled run.
    """
    cron, manifest = settings.batch_schedule.strip(), settings.batch_manifest.strip()
    if not cron and not manifest:
        return []
    if not cron or not manifest:
        missing = "REELFLOW_BATCH_MANIFEST" if cron else "REELFLOW_BATCH_SCHEDULE"
        raise ValueError(f"a scheduled batch needs both REELFLOW_BATCH_SCHEDULE and REELFLOW_BATCH_MANIFEST; "
                         f"{missing} is not set")
    try:
        return [Cron(cron, timezone="UTC", slug="batch-schedule",
                     parameters={"request": {"manifest": manifest, **SCHEDULED_BATCH}})]
    except ValueError as exc:
        raise ValueError(f"REELFLOW_BATCH_SCHEDULE={cron!r} is not a valid cron expression: {exc}") from exc


def deployments(settings: Settings) -> list[tuple[Flow[Any, Any], dict[str, Any]]]:
    """Every deployment the runner serves, as (flow, deployment options), with the same names as prefect.yaml's."""
    return [
        (narrative, {"name": NARRATIVE_DEPLOYMENT, "description": "Narrated video from lines"}),
        (movie, {"name": MOVIE_DEPLOYMENT, "description": "Exact-length movie from one prompt"}),
        (deliver_webhook, {"name": DELIVER_WEBHOOK_DEPLOYMENT,
                           "description": "Signed, retried terminal webhook of one request"}),
        (batch, {"name": BATCH_DEPLOYMENT, "description": "One job per manifest line",
                 "schedules": batch_schedules(settings)}),
        (retention, {"name": RETENTION_DEPLOYMENT, "cron": settings.retention_cron,
                     "description": "Daily: delete what is older than REELFLOW_RETENTION_DAYS"}),
    ]


def main() -> None:
    """Serve every deployment. The flows are added to the runner as objects (``Runner.add_flow``), not as
    deployments alone (what ``prefect.serve`` does): then a flow run starts from the flow already in memory, in a
    process forked from the warm forkserver, instead of ``python -m prefect.engine`` importing everything again."""
    settings = get_settings()
    try:
        served = deployments(settings)
    except ValueError as exc:
        raise SystemExit(f"cannot start the runner: {exc}") from exc
    install_warm_start()
    ensure_crash_automation()
    start_in_background()
    runner = Runner(limit=settings.runner_limit, query_seconds=POLL_SECONDS)
    for served_flow, options in served:
        runner.add_flow(in_memory(served_flow), tags=["reelflow"], **options)
    with contextlib.suppress(KeyboardInterrupt, TerminationSignal):
        asyncio.run(runner.start())


if __name__ == "__main__":
    main()
