"""Typed views of the API's JSON: a job's status and a page of the request list.

Plain frozen dataclasses rather than pydantic models so the client needs nothing beyond httpx; ``raw`` keeps the
whole body, so a field the server adds later is never lost to a caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELLED = "PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"
FINAL = frozenset({COMPLETED, FAILED, CANCELLED})


@dataclass(frozen=True)
class JobStatus:
    """One ``GET /v1/video/status`` body."""

    request_id: str
    status: str
    progress: int = 0
    stage: str | None = None
    message: str | None = None
    result: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any], request_id: str = "") -> JobStatus:
        return cls(request_id=str(body.get("request_id") or request_id), status=str(body.get("status", PENDING)),
                   progress=int(body.get("progress") or 0), stage=body.get("stage") or None,
                   message=body.get("message") or None, result=body.get("result"), raw=body)

    @property
    def is_final(self) -> bool:
        """COMPLETED, FAILED or CANCELLED: polling further cannot change the answer."""
        return self.status in FINAL

    @property
    def video_url(self) -> str | None:
        """The finished MP4's link (signed, no API key needed), once COMPLETED."""
        return (self.result or {}).get("videoUrl")


@dataclass(frozen=True)
class RequestPage:
    """One ``GET /v1/video/requests`` page: the caller's requests, newest first, and the cursor of the next page."""

    requests: list[dict[str, Any]]
    next_cursor: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> RequestPage:
        return cls(requests=list(body.get("requests") or []), next_cursor=body.get("next_cursor") or None)
