"""Verify a reelflow webhook on the receiving side.

reelflow signs every delivery the Standard Webhooks way (headers ``webhook-id``, ``webhook-timestamp``,
``webhook-signature``: HMAC-SHA256 over ``id.timestamp.body``, secret ``whsec_...``), so the receiver uses the
reference ``standardwebhooks`` library rather than our own HMAC code: it also rejects stale or future timestamps
(replays) and compares in constant time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from reelflow_client.errors import ReelflowClientError


class InvalidSignature(ReelflowClientError):
    """The body was not signed with this secret, was altered, or is too old (a replay)."""


def verify_webhook(body: bytes | str, headers: Mapping[str, str], secret: str) -> dict[str, Any]:
    """The delivery's JSON (the same body as ``GET /status``) if its signature is valid, else ``InvalidSignature``.

    Pass the raw request body exactly as received (not re-serialised JSON) and the request's headers.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        payload = Webhook(secret).verify(body, lowered)
    except WebhookVerificationError as exc:
        raise InvalidSignature(f"webhook signature is not valid: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidSignature("webhook body is not a JSON object")
    return payload
