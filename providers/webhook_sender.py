"""One signed webhook POST, classified: delivered, worth retrying, or not.

Signing follows the Standard Webhooks spec through the ``standardwebhooks`` library (headers ``webhook-id``,
``webhook-timestamp``, ``webhook-signature``; HMAC-SHA256). The same ``webhook-id`` is used for every attempt of
one event so receivers can dedupe.

Egress is the one place a caller points our server at an address of its choosing, so each attempt
- resolves the host once through the SSRF guard and connects to exactly the addresses that passed (the request goes
  to the IP; the ``Host`` header and the TLS SNI/certificate check keep the URL's host name), so a rebinding DNS name
  cannot move the connection to 127.0.0.1 after the check; redirects are never followed; proxies from the
  environment are ignored (a proxy would resolve the name itself);
- has one overall deadline for connect + send + response (``asyncio.timeout`` around a streamed request: httpx's
  timeouts are per phase and per read, so a receiver trickling a byte at a time would otherwise hold a runner slot
  for ever) and reads at most :data:`MAX_RESPONSE_BYTES` of the body, which is otherwise ignored;
- reports its failure as one generic word (:data:`ERRORS`): a caller sees it in ``/status``, and telling "connection
  refused" from "timed out" would make the webhook a port scanner.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import ipaddress
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks.webhooks import Webhook

from core.errors import InvalidRequest
from core.netguard import IPAddress, Target, check_webhook_target

Outcome = Literal["delivered", "retry", "give_up"]
USER_AGENT = "reelflow-webhooks/0.1"
MAX_RESPONSE_BYTES = 64 * 1024
MAX_RETRY_AFTER = 3600.0
UNREACHABLE, TIMEOUT, HTTP_4XX, HTTP_5XX = "unreachable", "timeout", "http 4xx", "http 5xx"
ERRORS = (UNREACHABLE, TIMEOUT, HTTP_4XX, HTTP_5XX)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """What one POST achieved; ``error`` is one of :data:`ERRORS` (or empty when delivered)."""

    outcome: Outcome
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None


def message_id(request_id: str, event: str) -> str:
    """A stable id per (request, event): every retry of the same event carries it."""
    return "msg_" + hashlib.sha256(f"{request_id}:{event}".encode()).hexdigest()[:24]


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds, capped at one hour; None when absent or unreadable.

    The cap keeps one receiver from parking its deliveries (and the reconciler's attention) for years.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - (now if now is not None else time.time())), MAX_RETRY_AFTER)


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


def _pinned_url(target: Target, address: IPAddress) -> str:
    parts = urlsplit(target.url)
    literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    return urlunsplit((parts.scheme, f"{literal}:{target.port}", parts.path or "/", parts.query, ""))


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


async def _post_to(target: Target, address: IPAddress, body: str,
                   headers: dict[str, str]) -> tuple[int, str | None]:
    """POST to one pinned address; read at most MAX_RESPONSE_BYTES of the answer; its status and Retry-After."""
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=None) as client:
        request = client.build_request("POST", _pinned_url(target, address), content=body,
                                       headers={**headers, "host": _host_header(target)}, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code, response.headers.get("retry-after")


async def _attempt(target: Target, body: str, headers: dict[str, str], timeout: float) -> Attempt:
    try:
        async with asyncio.timeout(timeout):
            answer: tuple[int, str | None] | None = None
            for address in target.addresses:
                try:
                    answer = await _post_to(target, address, body, headers)
                    break
                except httpx.ConnectError as exc:
                    log.info("webhook to %s: %s unreachable (%s)", target.host, address, exc)
            if answer is None:
                return Attempt("retry", error=UNREACHABLE)
    except TimeoutError:
        return Attempt("retry", error=TIMEOUT)
    except httpx.HTTPError as exc:  # the peer broke the exchange (reset, bad protocol, TLS): nobody to deliver to
        log.info("webhook to %s failed: %r", target.host, exc)
        return Attempt("retry", error=UNREACHABLE)
    code, retry_after = answer
    if 200 <= code < 300:
        return Attempt("delivered", status_code=code)
    error = HTTP_5XX if code >= 500 else HTTP_4XX  # a 3xx is not followed and counts as a refusal, like a 4xx
    if code == 429 or code >= 500:
        return Attempt("retry", status_code=code, error=error, retry_after=retry_after_seconds(retry_after))
    return Attempt("give_up", status_code=code, error=error)


def send(url: str, payload: dict[str, Any], msg_id: str, *, secret: str, timeout: float,
         allow_private: bool) -> Attempt:
    """POST ``payload`` once. 2xx delivered; 429, 5xx, timeouts and connection errors retry; other answers give up.

    The request runs on its own event loop in a helper thread, so this works the same from sync code, from inside
    a running loop (Prefect's engine) and from tests.
    """
    try:
        target = check_webhook_target(url, allow_private=allow_private)
    except InvalidRequest as exc:
        log.warning("webhook refused: %s", exc)
        return Attempt("give_up", error=UNREACHABLE)
    body = json.dumps(payload, separators=(",", ":"), default=str)
    headers = signed_headers(secret, msg_id, body)
    with ThreadPoolExecutor(1, thread_name_prefix="webhook") as pool:
        return pool.submit(asyncio.run, _attempt(target, body, headers, timeout)).result()
