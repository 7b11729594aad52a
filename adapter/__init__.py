"""Adapters: the HTTP API and the CLI. They validate, then hand work to Prefect; they never render themselves."""
