"""A flow for tests/flows/test_warm_start.py: it notes which process ran it. Like the job flows, it is an importable
module with string annotations (``from __future__``) naming a pydantic model, the case that needs
``deployments.warm_start.in_memory`` before a forked process can validate its parameters."""

from __future__ import annotations

import os
from pathlib import Path

from prefect import flow
from pydantic import BaseModel


class Where(BaseModel):
    out: str


@flow(name="warm-start-probe")
def note_process(where: Where) -> None:
    Path(where.out).write_text(f"{os.getpid()} {os.getppid()}")
