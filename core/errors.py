"""The reelflow error tree.

Every error we raise on purpose comes from here, and ``str(exc)`` is always safe to show a user
(no keys, no signed URLs, no stack traces)::

    ReelflowError
     ├── InvalidRequest            400: the caller sent something we will not process
     ├── NotFound                  404: unknown id, or an id owned by another key
     ├── ProviderError             a model backend failed
     │    ├── RetryableProviderError   429 / 5xx / timeouts / connection errors: tasks retry these
     │    └── FatalProviderError       401 / 403 / 400 / content policy: retrying cannot help
     ├── RenderError               ffmpeg (or our own media code) could not produce a file
     └── JobFailed                 a job stopped; names the stage, the scene and the reason

Vendor exceptions are translated into this tree in the vendor module only (one seam per vendor).
"""

from __future__ import annotations


class ReelflowError(Exception):
    """Base of every error reelflow raises on purpose."""


class InvalidRequest(ReelflowError):
    """The request breaks a contract rule; the message names the field and the reason."""


class NotFound(ReelflowError):
    """An id that does not exist, or that belongs to another API key."""


class ProviderError(ReelflowError):
    """A model backend (vendor or local renderer) failed."""

    def __init__(self, message: str, *, provider: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.retry_after = retry_after


class RetryableProviderError(ProviderError):
    """A transient failure (rate limit, 5xx, timeout, connection): the task may try again."""


class FatalProviderError(ProviderError):
    """A failure that retrying cannot fix (bad credentials, refused content, bad input)."""


class RenderError(ReelflowError):
    """ffmpeg failed; the message carries the last lines of its stderr."""


class JobFailed(ReelflowError):
    """A job stopped at a stage; the message names the stage, the scene and the reason."""
