"""A flow for tests/flows/test_warm_start.py: it notes which process ran it (an importable module, as the
runner's flows are, so a forked flow-run process finds it among the forkserver's imports)."""

from __future__ import annotations

import os
from pathlib import Path

from prefect import flow


@flow(name="warm-start-probe")
def note_process(out: str) -> None:
    Path(out).write_text(f"{os.getpid()} {os.getppid()}")
