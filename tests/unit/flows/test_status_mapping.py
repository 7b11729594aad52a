"""Prefect states → the seed's statuses, including a job whose worker died and that is about to be re-queued."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from prefect.client.schemas.objects import FlowRun, State, StateType

from core.settings import get_settings
from flows.status import api_status, status_body


def run(state: StateType, name: str | None = None, tags: tuple[str, ...] = ("reelflow", "job"),
        **labels: Any) -> FlowRun:
    return FlowRun(id=uuid.uuid4(), flow_id=uuid.uuid4(), state=State(type=state, name=name), tags=list(tags),
                   labels=labels)


@pytest.mark.parametrize(("state", "name", "expected"), [
    (StateType.SCHEDULED, None, "PENDING"), (StateType.SCHEDULED, "AwaitingRetry", "IN_PROGRESS"),
    (StateType.PENDING, None, "PENDING"), (StateType.RUNNING, None, "IN_PROGRESS"),
    (StateType.COMPLETED, None, "COMPLETED"), (StateType.FAILED, None, "FAILED"),
    (StateType.CANCELLING, None, "CANCELLED"), (StateType.CANCELLED, None, "CANCELLED"),
])
def test_state_types_map_to_seed_statuses(state: StateType, name: str | None, expected: str) -> None:
    assert api_status(run(state, name)) == expected


def test_a_crashed_job_with_requeues_left_is_still_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_REQUEUE_LIMIT", "2")
    get_settings.cache_clear()
    crashed = run(StateType.CRASHED, **{"reelflow.requeues": 1})
    assert api_status(crashed) == "IN_PROGRESS"
    assert "being re-queued" in status_body(crashed, None)["message"]
    assert api_status(run(StateType.CRASHED, **{"reelflow.requeues": 2})) == "FAILED"  # no re-queue left
    assert api_status(run(StateType.CRASHED, tags=("reelflow",))) == "FAILED"  # not a job: never re-queued
    monkeypatch.setenv("REELFLOW_REQUEUE_LIMIT", "0")
    get_settings.cache_clear()
    assert api_status(run(StateType.CRASHED)) == "FAILED"
    assert "stopped unexpectedly" in status_body(run(StateType.CRASHED), None)["message"]
