"""Deployment names shared by the embedded runner, prefect.yaml and the API (identical in every mode)."""

NARRATIVE_DEPLOYMENT = "reelflow-narrative"
NARRATIVE = f"narrative/{NARRATIVE_DEPLOYMENT}"

MOVIE_DEPLOYMENT = "reelflow-movie"
MOVIE = f"movie/{MOVIE_DEPLOYMENT}"

DELIVER_WEBHOOK_DEPLOYMENT = "reelflow-deliver-webhook"
DELIVER_WEBHOOK = f"deliver-webhook/{DELIVER_WEBHOOK_DEPLOYMENT}"

BATCH_DEPLOYMENT = "reelflow-batch"
BATCH = f"batch/{BATCH_DEPLOYMENT}"
