"""One signed webhook POST, classified: delivered, worth retrying, or not.

Signing follows the Standard Webhooks spec through the ``standardwebhooks`` library (headers ``webhook-id``,
``webhook-timestamp``, ``webhook-signature``; HMAC-SHA256). The same ``webhook-id`` is used for every attempt of
one event so receivers can dedupe. Redirects are never followed, and the target is checked against the SSRF guard
on every attempt (DNS may have changed since the request was accepted).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from standardwebhooks.webhooks import Webhook

from core.errors import InvalidRequest
from core.netguard import check_webhook_target

Outcome = Literal["delivered", "retry", "give_up"]
USER_AGENT = "reelflow-webhooks/0.1"


@dataclass(frozen=True)
class Attempt:
    """What one POST achieved."""

    outcome: Outcome
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None


def message_id(request_id: str, event: str) -> str:
    """A stable id per (request, event): every retry of the same event carries it."""
    return "msg_" + hashlib.sha256(f"{request_id}:{event}".encode()).hexdigest()[:24]


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def signed_headers(secret: str, msg_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers for ``body``."""
    at = at or datetime.now(tz=UTC)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def send(url: str, payload: dict[str, Any], msg_id: str, *, secret: str, timeout: float,
         allow_private: bool) -> Attempt:
    """POST ``payload`` once. 2xx delivered; 429, 5xx, timeouts and connection errors retry; other answers give up."""
    try:
        check_webhook_target(url, allow_private=allow_private)
    except InvalidRequest as exc:
        return Attempt("give_up", error=str(exc))
    body = json.dumps(payload, separators=(",", ":"), default=str)
    try:
        response = httpx.post(url, content=body, headers=signed_headers(secret, msg_id, body), timeout=timeout,
                              follow_redirects=False)
    except httpx.TimeoutException:
        return Attempt("retry", error=f"the receiver did not answer within {timeout:.0f} s")
    except httpx.TransportError as exc:
        return Attempt("retry", error=f"could not connect to the receiver ({type(exc).__name__})")
    code = response.status_code
    if 200 <= code < 300:
        return Attempt("delivered", status_code=code)
    if code == 429 or code >= 500:
        return Attempt("retry", status_code=code, error=f"the receiver answered {code}",
                       retry_after=retry_after_seconds(response.headers.get("retry-after")))
    return Attempt("give_up", status_code=code, error=f"the receiver answered {code}; not retrying a {code}")
