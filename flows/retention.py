"""The retention flow: once a day (a deployment of the runner, visible in the Prefect UI) it deletes job media,
unreferenced cache entries, Prefect task results and flow runs older than ``REELFLOW_RETENTION_DAYS``.

Without it media, cache and results grow until the disk is full. A swept job leaves a tombstone, so its owner's
``/status`` answers 410 with a message instead of a bare 404.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger
from pydantic import BaseModel, ConfigDict, Field

from core.settings import get_settings
from tasks.housekeeping import sweep_old_jobs, sweep_results, sweep_runs, sweep_unreferenced_cache


class RetentionRequest(BaseModel):
    """The retention flow's one parameter: how old is too old (default: ``REELFLOW_RETENTION_DAYS``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: float | None = Field(default=None, gt=0, description="Days to keep; empty: REELFLOW_RETENTION_DAYS.")


@flow(name="retention", flow_run_name="retention", log_prints=False, result_serializer="json")
def retention(request: RetentionRequest | None = None) -> dict[str, Any]:
    """Sweep everything older than the retention period; the result says what each step freed."""
    days = (request.days if request and request.days else None) or get_settings().retention_days
    cutoff = time.time() - days * 86400
    freed = {"days": days, "jobs": sweep_old_jobs(cutoff), "runs": sweep_runs(cutoff),
             "cache": sweep_unreferenced_cache(cutoff), "results": sweep_results(cutoff)}
    total = sum(int(step["bytes"]) for step in freed.values() if isinstance(step, dict))
    get_run_logger().info("retention (%g days) freed %d bytes: %s", days, total, freed)
    return {**freed, "bytes": total}
