"""The embedded runner: every deployment in one ``prefect.serve`` (what ``reelflow serve`` starts).

Run as ``python -m deployments.serve``. The poll frequency comes from ``PREFECT_RUNNER_POLL_FREQUENCY`` (the
supervisor sets 1 s; Prefect's default of 10 s adds seconds to every job) and the number of flow runs executed at
once from ``REELFLOW_RUNNER_LIMIT``. The same process runs the reconciler (re-queues crashed jobs, delivers owed
webhooks) and makes sure the crash-detection automation exists.
"""

from __future__ import annotations

from prefect import serve

from core.settings import get_settings
from flows.batch import batch
from flows.movie import movie
from flows.names import BATCH_DEPLOYMENT, DELIVER_WEBHOOK_DEPLOYMENT, MOVIE_DEPLOYMENT, NARRATIVE_DEPLOYMENT
from flows.narrative import narrative
from flows.reconcile import ensure_crash_automation, start_in_background
from flows.webhooks import deliver_webhook


def main() -> None:
    settings = get_settings()
    ensure_crash_automation()
    start_in_background()
    serve(
        narrative.to_deployment(name=NARRATIVE_DEPLOYMENT, tags=["reelflow"], description="Narrated video from lines"),
        movie.to_deployment(name=MOVIE_DEPLOYMENT, tags=["reelflow"], description="Exact-length movie from one prompt"),
        deliver_webhook.to_deployment(name=DELIVER_WEBHOOK_DEPLOYMENT, tags=["reelflow"],
                                      description="Signed, retried terminal webhook of one request"),
        batch.to_deployment(name=BATCH_DEPLOYMENT, tags=["reelflow"], description="One job per manifest line"),
        limit=settings.runner_limit,
    )


if __name__ == "__main__":
    main()
