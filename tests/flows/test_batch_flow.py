"""The batch flow under the harness: an invalid manifest starts nothing and says why, line by line.

A batch that does start jobs needs the narrative deployment served, so it runs on the real stack
(tests/e2e/test_batch.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterTags

from core.manifest import BatchRequest
from flows.batch import batch

GOOD = {"input": {"prompt_list": ["A quiet harbour at dawn."], "image_model": "FLUX1.1PRO"}}
BAD = {"input": {"prompt_list": ["A quiet harbour at dawn."], "image_model": "DALLE3"}}


def started_and_report(run_id: object) -> tuple[list[object], str]:
    """Job runs this batch created (by its tag) and the text of its invalid-lines artifact."""
    with get_client(sync_client=True) as client:
        started = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"batch:{str(run_id)[:8]}"])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    [report] = [a for a in artifacts if a.key == f"batch-{str(run_id)[:8]}-invalid"]
    return list(started), str(report.data)


def test_an_invalid_line_fails_the_batch_before_anything_starts(tmp_path: Path) -> None:
    path = tmp_path / "nightly.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in (GOOD, BAD, GOOD)) + "\n")
    state = batch(BatchRequest(manifest=str(path), owner="owner123"), return_state=True)
    assert state.is_failed()
    assert "1 of 3 manifest lines are invalid; nothing was started" in str(state.message)
    assert "line 2: input.image_model: 'DALLE3' is not an express model" in str(state.message)
    started, report = started_and_report(state.state_details.flow_run_id)
    assert started == [] and "| 2 | input.image_model: 'DALLE3'" in report


def test_skip_invalid_with_no_valid_line_still_starts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nightly.jsonl"
    path.write_text(json.dumps(BAD) + "\n")
    state = batch(BatchRequest(manifest=str(path), skip_invalid=True, owner="owner123"), return_state=True)
    assert state.is_failed() and "nothing was started" in str(state.message)
    started, _ = started_and_report(state.state_details.flow_run_id)
    assert started == []


def test_an_unreadable_manifest_fails_with_its_name(tmp_path: Path) -> None:
    state = batch(BatchRequest(manifest=str(tmp_path / "missing.jsonl")), return_state=True)
    assert state.is_failed() and "cannot read the manifest" in str(state.message)
