"""Deployment names shared by the embedded runner, prefect.yaml and the API (identical in every mode)."""

NARRATIVE_DEPLOYMENT = "reelflow-narrative"
NARRATIVE = f"narrative/{NARRATIVE_DEPLOYMENT}"
