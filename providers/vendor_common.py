"""What every vendor module shares: the status table, user-safe wording, Retry-After, limiters, polling, downloads.

Each vendor module keeps its own ``_map_errors()`` seam, because only it knows its SDK's exception classes. What
those seams have in common lives here once: which HTTP statuses are worth another attempt (429, 408, 5xx) and
which are not (400, 401, 402, 403, 404, 422, ...), how a message names the vendor and the cause without leaking a
key or a signed URL, and how long the vendor asked us to wait. Nothing here retries: tasks own every retry, so each
attempt is visible in Prefect. The one loop here, :func:`poll`, waits for a job the vendor is already running.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from core.catalog import CREDENTIALS
from core.errors import FatalProviderError, ProviderError, RetryableProviderError
from core.settings import get_settings

T = TypeVar("T")
VENDORS = {"openai": "OpenAI", "replicate": "Replicate", "runway": "Runway", "elevenlabs": "ElevenLabs",
           "google": "Google"}
CAUSES = {
    400: "bad request", 401: "invalid {credential}", 402: "payment required (out of credits)",
    403: "permission denied", 404: "model or resource not found", 408: "request timed out", 409: "conflict",
    413: "input too large", 415: "unsupported media type", 422: "input rejected", 429: "rate limited",
}
RETRYABLE = frozenset({408, 409, 425, 429})
#: Consecutive failed polls of a job the vendor is running before we give up on it (a poll is not a new job).
MAX_POLL_FAILURES = 3
_URL = re.compile(r"(?:https?|data):[^\s\"'<>]+")
_SECRET = re.compile(r"\b(?:sk|r8|key|rw|xi|whsec)[-_][A-Za-z0-9_\-]{6,}|\bBearer\s+\S+|\b[A-Za-z0-9]{32,}\b")


def vendor_name(vendor: str) -> str:
    return VENDORS.get(vendor, vendor)


def safe_text(text: object, limit: int = 240) -> str:
    """Vendor text fit for a user: URLs (often signed) and anything shaped like a key removed, one short line."""
    cleaned = _SECRET.sub("<redacted>", _URL.sub("<url>", str(text or "")))
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE or status >= 500


def status_error(
    vendor: str, status: int, detail: object = "", *, retry_after: float | None = None, credential: str = "API key"
) -> ProviderError:
    """The error for an HTTP status from a vendor: retryable for 408/409/425/429/5xx, fatal for every other 4xx."""
    name = vendor_name(vendor)
    cause = CAUSES.get(status, "server error" if status >= 500 else "request refused").format(credential=credential)
    extra = safe_text(detail)
    # An auth failure's detail tends to echo the key's prefix; the cause and the variable to check are what helps.
    tail = f": {extra}" if extra and status not in (401, 403) else ""
    if status in (401, 403) and vendor in CREDENTIALS:
        tail = f"; check {CREDENTIALS[vendor]}"
    if is_retryable_status(status):
        return RetryableProviderError(f"{name} failed temporarily: {cause} ({status}){tail}", provider=vendor,
                                      retry_after=retry_after)
    return FatalProviderError(f"{name} rejected the request: {cause} ({status}){tail}", provider=vendor)


def refused(vendor: str, reason: object) -> FatalProviderError:
    """The vendor's safety system refused the prompt or the output: retrying the same input cannot help."""
    return FatalProviderError(f"{vendor_name(vendor)} refused the content (content policy): {safe_text(reason)}",
                              provider=vendor)


def failed_job(vendor: str, reason: object) -> FatalProviderError:
    return FatalProviderError(f"{vendor_name(vendor)} could not generate the output: {safe_text(reason)}",
                              provider=vendor)


def timed_out(vendor: str, what: str = "the request") -> RetryableProviderError:
    return RetryableProviderError(f"{vendor_name(vendor)} did not answer {what} in time (timeout)", provider=vendor)


def unreachable(vendor: str, exc: BaseException) -> RetryableProviderError:
    return RetryableProviderError(
        f"{vendor_name(vendor)} could not be reached: connection error ({type(exc).__name__})", provider=vendor
    )


def bad_response(vendor: str, what: str) -> RetryableProviderError:
    """A 2xx answer we cannot use (truncated, missing a field): usually transient, so worth another attempt."""
    return RetryableProviderError(f"{vendor_name(vendor)} sent an unusable response: {what}", provider=vendor)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a ``Retry-After`` (or ``retry-after-ms``) header: delta seconds or an HTTP date."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


_limiters: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_limiters_lock = threading.Lock()


@contextmanager
def limited(vendor: str) -> Iterator[None]:
    """Hold one of this process's slots for ``vendor`` (``REELFLOW_<VENDOR>_CONCURRENCY``) for a whole job."""
    size = int(getattr(get_settings(), f"{vendor}_concurrency", 4))
    with _limiters_lock:
        slot = _limiters.setdefault((vendor, size), threading.BoundedSemaphore(size))
    with slot:
        yield


def poll(
    vendor: str, fetch: Callable[[], T], done: Callable[[T], bool], *, cancel: Callable[[], None], what: str
) -> T:
    """Fetch a vendor job until ``done``, under our own deadline; cancel it (best effort) when the deadline passes.

    SDK helpers such as Replicate's ``wait()`` poll forever, so we never use them. A failed poll is tolerated a few
    times in a row: the job keeps running at the vendor, and failing the task would pay for a new one.
    """
    settings = get_settings()
    deadline = time.monotonic() + settings.provider_job_timeout
    failures = 0
    while True:
        try:
            state = fetch()
        except RetryableProviderError:
            failures += 1
            if failures > MAX_POLL_FAILURES:
                raise
        else:
            failures = 0
            if done(state):
                return state
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            try:
                cancel()
            except ProviderError:
                pass  # the job may have finished meanwhile; the timeout is what we report
            raise RetryableProviderError(
                f"{vendor_name(vendor)} did not finish {what} within {settings.provider_job_timeout:g} s "
                "(timeout); the job was cancelled", provider=vendor,
            )
        time.sleep(min(settings.provider_poll_interval, remaining))


def download(vendor: str, url: str, *, max_bytes: int = 1 << 30) -> bytes:
    """Fetch an output the vendor hosts (its URLs expire, so we copy it at once), mapping failures like the API."""
    timeout = get_settings().provider_timeout
    if url.startswith("data:"):
        raise bad_response(vendor, "inline output instead of a URL")
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise status_error(vendor, response.status_code, "downloading the output",
                                   retry_after=retry_after(response.headers))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise failed_job(vendor, f"output larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise timed_out(vendor, "the output download") from exc
    except httpx.TransportError as exc:
        raise unreachable(vendor, exc) from exc
    data = b"".join(chunks)
    if not data:
        raise bad_response(vendor, "empty output file")
    return data
