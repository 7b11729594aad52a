"""Prefect flows: orchestration only (wiring, fan-out, progress); the work happens in tasks."""
