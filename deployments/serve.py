"""The embedded runner: every deployment in one ``prefect.serve`` (what ``reelflow serve`` starts).

Run as ``python -m deployments.serve``. The poll frequency comes from ``PREFECT_RUNNER_POLL_FREQUENCY`` (the
supervisor sets 1 s; Prefect's default of 10 s adds seconds to every job) and the number of flow runs executed at
once from ``REELFLOW_RUNNER_LIMIT``.
"""

from __future__ import annotations

from prefect import serve

from core.settings import get_settings
from flows.movie import movie
from flows.names import MOVIE_DEPLOYMENT, NARRATIVE_DEPLOYMENT
from flows.narrative import narrative


def main() -> None:
    settings = get_settings()
    serve(
        narrative.to_deployment(name=NARRATIVE_DEPLOYMENT, tags=["reelflow"], description="Narrated video from lines"),
        movie.to_deployment(name=MOVIE_DEPLOYMENT, tags=["reelflow"], description="Exact-length movie from one prompt"),
        limit=settings.runner_limit,
    )


if __name__ == "__main__":
    main()
