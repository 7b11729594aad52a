"""A small typed Python client for a reelflow server's public HTTP API.

    from reelflow_client import ReelflowClient

    with ReelflowClient(api_key="rf_...", base_url="http://127.0.0.1:8000") as client:
        request_id = client.create_narrative({"input": {"prompt_list": ["A lighthouse at dawn."],
                                                        "image_model": "FLUX1.1PRO"}})
        done = client.wait(request_id, raise_on_failure=True)
        client.download(request_id, "lighthouse.mp4")

A standalone package: it imports httpx and standardwebhooks only, never reelflow's own modules (import-linter holds
that), so it can be copied or published on its own.
"""

from reelflow_client.client import DEFAULT_URL, ReelflowClient
from reelflow_client.errors import (
    ApiError,
    BadRequest,
    Conflict,
    JobFailed,
    NotFound,
    PayloadTooLarge,
    ReelflowClientError,
    ServerError,
    ServiceUnreachable,
    TooManyRequests,
    Unauthorized,
    WaitTimeout,
)
from reelflow_client.models import JobStatus, RequestPage
from reelflow_client.webhooks import InvalidSignature, verify_webhook

__all__ = [
    "DEFAULT_URL", "ApiError", "BadRequest", "Conflict", "InvalidSignature", "JobFailed", "JobStatus", "NotFound",
    "PayloadTooLarge", "ReelflowClient", "ReelflowClientError", "RequestPage", "ServerError", "ServiceUnreachable",
    "TooManyRequests", "Unauthorized", "WaitTimeout", "verify_webhook",
]
