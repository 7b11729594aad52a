"""Webhook attempts as Prefect task runs, so every attempt is visible in the UI; and best-effort progress pings.

Every callback is signed with the secret of the API key that owns the job (``core.secrets.webhook_secret_for``),
read from the job run's ``key:<key_id>`` tag, so a tenant can verify its own callbacks and forge nobody else's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from prefect import task

from core.secrets import webhook_secret_for
from core.settings import get_settings
from providers.webhook_sender import Attempt, message_id, send

log = logging.getLogger(__name__)
OWNER_TAG_PREFIX = "key:"


def owner_key_id(tags: Iterable[str] | None) -> str:
    """The ``key_id`` of the API key that created a run (from its ``key:`` tag); empty for runs started without one."""
    return next((t.removeprefix(OWNER_TAG_PREFIX) for t in (tags or []) if t.startswith(OWNER_TAG_PREFIX)), "")


@task(name="post-webhook", task_run_name="webhook-attempt-{attempt}", retries=0)
def post_webhook(url: str, payload: dict[str, Any], msg_id: str, attempt: int, owner: str = "") -> Attempt:
    """One signed POST of a terminal event; the delivery flow decides whether and when to try again."""
    settings = get_settings()
    result = send(url, payload, msg_id, secret=webhook_secret_for(settings, owner), timeout=settings.webhook_timeout,
                  allow_private=settings.webhook_allow_private)
    if result.outcome != "delivered":
        log.warning("webhook attempt %d for %s: %s", attempt, msg_id, result.error)
    return result


def notify_progress(url: str, request_id: str, progress: int, stage: str, owner: str = "") -> None:
    """A single best-effort IN_PROGRESS callback for a new stage (never retried, never fatal)."""
    settings = get_settings()
    payload = {"request_id": request_id, "status": "IN_PROGRESS", "progress": progress, "stage": stage}
    result = send(url, payload, message_id(request_id, f"progress:{stage}"),
                  secret=webhook_secret_for(settings, owner), timeout=min(settings.webhook_timeout, 5.0),
                  allow_private=settings.webhook_allow_private)
    if result.outcome != "delivered":
        log.info("progress callback for %s (%s) not delivered: %s", request_id, stage, result.error)
