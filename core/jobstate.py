"""A job's state as it crosses modules: the API statuses, the flow-run labels and tags, and what "terminal" means.

Before this module the vocabulary was spelled as string literals in eight files (the flow writes labels, the
reconciler writes others, status and webhooks read them, the API and the batch flow write tags), with two
different "finished" predicates. Every writer and reader now imports the names from here, so ``/status`` can be
understood from one file, and a job is terminal in exactly one sense: :func:`is_terminal`.

The names of Prefect's final state types (``COMPLETED``, ``FAILED``, ``CANCELLED``) are the API statuses a job
ends with, so one predicate serves a flow run's state type and an intake row's status alike. A ``CRASHED`` run is
not terminal (the reconciler re-queues it) and neither is ``CANCELLING`` (the run has not stopped yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

Status = Literal["PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"]
PENDING: Final = "PENDING"
IN_PROGRESS: Final = "IN_PROGRESS"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
CANCELLED: Final = "CANCELLED"
STATUSES: Final = (PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELLED)
TERMINAL: Final = frozenset({COMPLETED, FAILED, CANCELLED})
ACTIVE: Final = frozenset({PENDING, IN_PROGRESS})

# Flow-run labels (one ``read_flow_run`` returns them with the state).
LABEL_PREFIX: Final = "reelflow."
PROGRESS: Final = "reelflow.progress"
STAGE: Final = "reelflow.stage"
STAGE_PREFIX: Final = "reelflow.stage."
MESSAGE: Final = "reelflow.message"
FAILED_STAGE: Final = "reelflow.failed_stage"
REQUEUES: Final = "reelflow.requeues"  # written by the reconciler each time it re-queues a job
REQUEST_ID: Final = "reelflow.request_id"  # the intake's request id (a flow run's own id differs)
WEBHOOK_PREFIX: Final = "reelflow.webhook."
WEBHOOK_FIELDS: Final = frozenset({"status", "attempts", "last_error"})  # the delivery state /status shows
BATCH_FINISHED: Final = "reelflow.batch.finished"
BATCH_TOTAL: Final = "reelflow.batch.total"

# Flow-run tags.
SERVICE_TAG: Final = "reelflow"
JOB_TAG: Final = "job"  # a job run the reconciler may re-queue
WEBHOOK_PENDING_TAG: Final = "webhook-pending"  # a run that still owes its terminal callback
RUN_NAME_WORDS: Final = 4


def is_terminal(status_or_state_type: str) -> bool:
    """True for a job that has ended for good: an API status or a Prefect state type name (they coincide)."""
    return status_or_state_type in TERMINAL


def owner_tag(key_id: str) -> str:
    """The tag that says which API key owns a run; a run without the caller's tag is a 404 to them."""
    return f"key:{key_id}"


def request_tag(request_id: str) -> str:
    return f"request:{request_id}"


def job_tags(key_id: str, request_id: str, *, webhook: bool, extra: tuple[str, ...] = ()) -> list[str]:
    """Every tag of a job's flow run: owner, service, job, its request id (searchable in the UI), callback owed."""
    tags = [owner_tag(key_id), SERVICE_TAG, JOB_TAG, request_tag(request_id), *extra]
    return tags + ([WEBHOOK_PENDING_TAG] if webhook else [])


def run_name(request_id: str, parameters: Mapping[str, Any]) -> str:
    """The flow run's name in the Prefect UI: the request id's prefix and the first words of the first line.

    The one place run names are built (the dispatcher and anything else that creates job runs call it).
    """
    request = parameters.get("request")
    text = ""
    if isinstance(request, Mapping):
        spec = request.get("input")
        if isinstance(spec, Mapping):
            lines = spec.get("prompt_list")
            first = lines[0] if isinstance(lines, list) and lines else spec.get("prompt", "")
            text = str(first).splitlines()[0] if str(first).strip() else ""
    words = "-".join("".join(ch for ch in w if ch.isalnum()).lower() for w in text.split()[:RUN_NAME_WORDS])
    return f"{request_id[:8]}-{words}".rstrip("-") if words.strip("-") else request_id[:8]


class JobLabels(BaseModel):
    """The job's labels as typed fields: read with :meth:`of`, written by the flow/reconciler with the constants."""

    request_id: str | None = None
    progress: int = Field(default=0, ge=0, le=100)
    stage: str | None = None
    stages: dict[str, str] = Field(default_factory=dict)
    message: str | None = None
    requeues: int = 0

    @classmethod
    def of(cls, labels: Mapping[str, Any] | None) -> JobLabels:
        """Parse a flow run's labels; malformed values read as their defaults (labels are written best effort)."""
        raw = dict(labels or {})
        stages = {k.removeprefix(STAGE_PREFIX): str(v) for k, v in raw.items() if k.startswith(STAGE_PREFIX)}
        return cls(request_id=str(raw[REQUEST_ID]) if raw.get(REQUEST_ID) else None,
                   progress=max(0, min(100, _int(raw.get(PROGRESS)))), stage=str(raw.get(STAGE) or "") or None,
                   stages=stages, message=str(raw[MESSAGE]) if raw.get(MESSAGE) else None,
                   requeues=_int(raw.get(REQUEUES)))


def _int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


class WebhookState(BaseModel):
    """The delivery state of a job's terminal callback, exactly the ``webhook`` object of ``/status``.

    It lives twice: as the run's labels (``WEBHOOK_PREFIX`` + field; the UI shows them and the reconciler schedules
    from them, with ``next_at``, ``lease`` and the rest) and as the intake row's ``webhook_state``, so the status of
    a finished job is read from PostgreSQL alone. Both are read through :meth:`of`, so they compare equal when they
    say the same thing (a cleared ``last_error`` is written as ``""``, read as None).
    """

    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None

    @classmethod
    def of(cls, fields: Mapping[str, Any] | None, prefix: str = "") -> WebhookState:
        """From a run's labels (``prefix`` = ``WEBHOOK_PREFIX``) or an intake row's copy; missing is pending/0."""
        raw = fields or {}
        return cls(status=str(raw.get(f"{prefix}status") or "pending"), attempts=_int(raw.get(f"{prefix}attempts")),
                   last_error=str(raw.get(f"{prefix}last_error") or "") or None)
