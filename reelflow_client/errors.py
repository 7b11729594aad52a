"""The client's error tree. ``str(exc)`` is the API's own ``message`` (or one plain sentence), safe to show a user::

    ReelflowClientError
     ├── ServiceUnreachable        no connection to the API at all (nothing listens, DNS, timeout)
     ├── ApiError                  the API answered with an error status; ``.status_code``, ``.message``
     │    ├── BadRequest           400: a contract rule, a missing/empty API_KEY, a model this server cannot serve
     │    ├── Unauthorized         401: unknown API_KEY
     │    ├── NotFound             404: unknown request id (or another key's), or an endpoint this server lacks
     │    ├── Conflict             409: e.g. cancelling a job that already finished
     │    ├── PayloadTooLarge      413
     │    ├── TooManyRequests      429: ``.retry_after`` seconds, from the ``Retry-After`` header
     │    └── ServerError          5xx (503: the API cannot reach its job service)
     ├── JobFailed                 ``wait(..., raise_on_failure=True)`` saw FAILED/CANCELLED; ``.status``
     └── WaitTimeout               ``wait(..., timeout=...)`` ran out before the job finished

The mapping from status code to class is one table (``_BY_STATUS``), the way httpx maps transport errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from reelflow_client.models import JobStatus


class ReelflowClientError(Exception):
    """Base of every error this client raises on purpose."""


class ServiceUnreachable(ReelflowClientError):
    """No HTTP answer from the API at ``url`` (connection refused, DNS, timeout)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"the reelflow API is not reachable at {url} ({reason})")
        self.url = url
        self.reason = reason


class ApiError(ReelflowClientError):
    """The API answered with an error status; ``message`` is its ``{"message": ...}``."""

    def __init__(self, status_code: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.retry_after = retry_after


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class PayloadTooLarge(ApiError):
    pass


class TooManyRequests(ApiError):
    pass


class ServerError(ApiError):
    pass


class JobFailed(ReelflowClientError):
    """A waited-for job ended FAILED or CANCELLED; the message is the API's reason."""

    def __init__(self, status: JobStatus) -> None:
        super().__init__(f"request {status.request_id} {status.status}: {status.message or 'no reason given'}")
        self.status = status


class WaitTimeout(ReelflowClientError):
    """``wait`` gave up before the job reached a final status; ``last`` is the last status seen."""

    def __init__(self, last: JobStatus, timeout: float) -> None:
        super().__init__(f"request {last.request_id} was still {last.status} after {timeout:g} s")
        self.last = last


_BY_STATUS: dict[int, type[ApiError]] = {400: BadRequest, 401: Unauthorized, 404: NotFound, 409: Conflict,
                                         413: PayloadTooLarge, 429: TooManyRequests}


def error_for(response: httpx.Response) -> ApiError:
    """The typed error for a non-2xx response, carrying the API's ``message`` (or the start of the body)."""
    try:
        body = response.json()
        message = str(body["message"]) if isinstance(body, dict) and "message" in body else response.text[:300]
    except ValueError:
        message = response.text[:300] or response.reason_phrase
    retry_after = response.headers.get("retry-after")
    cls = _BY_STATUS.get(response.status_code, ServerError if response.status_code >= 500 else ApiError)
    return cls(response.status_code, message,
               retry_after=float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None)
