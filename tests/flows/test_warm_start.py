"""The runner's flow-run processes are forked from the warm forkserver (deployments/warm_start.py) and run the
flow to completion exactly as Prefect's spawned processes do."""

from __future__ import annotations

import os
from pathlib import Path

import prefect.flow_engine
import pytest
from prefect.client.orchestration import get_client

from deployments import warm_start
from tests.flows.warm_flow import note_process


def test_a_flow_run_process_is_forked_from_the_forkserver_and_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefect.flow_engine, "multiprocessing", prefect.flow_engine.multiprocessing)  # undone after
    warm_start.install(["tests.flows.warm_flow"])
    out = tmp_path / "ran-in.txt"
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(note_process, parameters={"where": {"out": str(out)}})
        process = prefect.flow_engine.run_flow_in_subprocess(warm_start.in_memory(note_process), flow_run=run)
        process.join(120)
        state = client.read_flow_run(run.id).state
    assert process.exitcode == 0
    assert state is not None
    assert state.is_completed(), state
    parent = int(out.read_text().split()[1])
    assert parent != os.getpid()  # not a child of this process: forked by the forkserver
    assert type(process).__name__ == "ForkServerProcess"
