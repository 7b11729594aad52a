"""Prefect deployments of the flows: the embedded runner (serve.py) and work-pool deployments (prefect.yaml)."""
