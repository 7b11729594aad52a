"""The job-state vocabulary: one terminal predicate, tags, run names, typed labels, the webhook delivery state."""

from __future__ import annotations

import pytest

from core.jobstate import (
    MESSAGE,
    PROGRESS,
    REQUEST_ID,
    REQUEUES,
    STAGE,
    STAGE_PREFIX,
    WEBHOOK_PREFIX,
    JobLabels,
    WebhookState,
    is_terminal,
    job_tags,
    run_name,
)

RID = "0693f1c2-1234-4000-8000-000000000000"


@pytest.mark.parametrize("name", ["COMPLETED", "FAILED", "CANCELLED"])
def test_the_three_endings_are_terminal(name: str) -> None:
    assert is_terminal(name)


@pytest.mark.parametrize("name", ["PENDING", "IN_PROGRESS", "SCHEDULED", "RUNNING", "CRASHED", "CANCELLING",
                                  "PAUSED"])
def test_everything_else_is_not(name: str) -> None:
    assert not is_terminal(name)


def test_job_tags_carry_owner_request_and_callback() -> None:
    assert job_tags("abc", RID, webhook=True, extra=("batch:1234",)) == [
        "key:abc", "reelflow", "job", f"request:{RID}", "batch:1234", "webhook-pending"]
    assert "webhook-pending" not in job_tags("abc", RID, webhook=False)


def test_run_name_is_the_request_prefix_and_first_words() -> None:
    params = {"request": {"input": {"prompt_list": ["A lighthouse, on a cliff at dawn!\nsecond", "x"]}}}
    assert run_name(RID, params) == "0693f1c2-a-lighthouse-on-a"
    assert run_name(RID, {"request": {"input": {"prompt": "Two boats"}}}) == "0693f1c2-two-boats"
    assert run_name(RID, {}) == "0693f1c2"


def test_labels_parse_into_typed_fields() -> None:
    labels = JobLabels.of({REQUEST_ID: RID, PROGRESS: "42.0", STAGE: "image_generation", MESSAGE: "boom",
                           REQUEUES: 1, f"{STAGE_PREFIX}image_generation": "IN_PROGRESS", "other": 1})
    assert labels.request_id == RID
    assert labels.progress == 42
    assert labels.stage == "image_generation"
    assert labels.stages == {"image_generation": "IN_PROGRESS"}
    assert labels.message == "boom"
    assert labels.requeues == 1


def test_malformed_labels_read_as_defaults() -> None:
    labels = JobLabels.of({PROGRESS: "lots", REQUEUES: None})
    assert labels.progress == 0
    assert labels.requeues == 0
    assert labels.request_id is None


def test_webhook_state_reads_the_same_from_labels_and_from_the_intake_copy() -> None:
    labels = {f"{WEBHOOK_PREFIX}status": "pending", f"{WEBHOOK_PREFIX}attempts": 2,
              f"{WEBHOOK_PREFIX}last_error": "", f"{WEBHOOK_PREFIX}lease": 0, PROGRESS: 100}
    copy = {"status": "pending", "attempts": 2, "last_error": ""}  # merged fields, as the delivery writes them
    assert WebhookState.of(labels, WEBHOOK_PREFIX) == WebhookState.of(copy)
    assert WebhookState.of(copy).model_dump() == {"status": "pending", "attempts": 2, "last_error": None}


def test_webhook_state_before_any_attempt_is_pending_with_no_attempts() -> None:
    expected = {"status": "pending", "attempts": 0, "last_error": None}
    assert WebhookState.of(None).model_dump() == expected
    assert WebhookState.of({"other": 1}, WEBHOOK_PREFIX).model_dump() == expected
