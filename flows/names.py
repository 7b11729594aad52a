"""Names shared by the embedded runner, prefect.yaml, the supervisor and the API (identical in every mode)."""

NARRATIVE_DEPLOYMENT = "reelflow-narrative"
NARRATIVE = f"narrative/{NARRATIVE_DEPLOYMENT}"

MOVIE_DEPLOYMENT = "reelflow-movie"
MOVIE = f"movie/{MOVIE_DEPLOYMENT}"

DELIVER_WEBHOOK_DEPLOYMENT = "reelflow-deliver-webhook"
DELIVER_WEBHOOK = f"deliver-webhook/{DELIVER_WEBHOOK_DEPLOYMENT}"

BATCH_DEPLOYMENT = "reelflow-batch"
BATCH = f"batch/{BATCH_DEPLOYMENT}"

RETENTION_DEPLOYMENT = "reelflow-retention"
RETENTION = f"retention/{RETENTION_DEPLOYMENT}"

#: Our top-level packages; each module logs with ``logging.getLogger(__name__)`` below one of them.
MODULE_LOGGERS = ("core", "media", "providers", "tasks", "flows")
#: ``PREFECT_LOGGING_EXTRA_LOGGERS`` for every process that runs flows (supervisor's runner; prefect.yaml's workers).
EXTRA_LOGGERS = ",".join(MODULE_LOGGERS)
