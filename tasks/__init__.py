"""Prefect tasks: one step each, outputs written to storage, storage keys returned."""
