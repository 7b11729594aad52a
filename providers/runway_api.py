"""Runway: image-to-video clips through the official ``runwayml`` SDK (``image_to_video``, then the task polled).

The only module that imports ``runwayml``. The client has ``max_retries=0`` and an explicit timeout (tasks own the
retries); the base URL is a setting (``RUNWAYML_BASE_URL``) so tests point the SDK at a local fake. The SDK's
``wait_for_task_output`` is not used: we poll under our own deadline and delete (cancel) the task when it passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from runwayml import APIConnectionError, APIStatusError, APITimeoutError, RunwayML, RunwayMLError

from core.errors import FatalProviderError, RetryableProviderError
from core.settings import get_settings
from providers.base import ClipRequest
from providers.vendor_common import (
    bad_response,
    download,
    failed_job,
    limited,
    poll,
    refused,
    retry_after,
    safe_text,
    status_error,
    timed_out,
    unreachable,
)
from providers.vendor_media import image_data_url

VENDOR = "runway"
#: Output sizes Runway's gen4 models accept, per reelflow aspect ratio.
RATIOS = {"16:9": "1280:720", "9:16": "720:1280", "1:1": "960:960"}
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
#: Runway accepts data URIs up to 5 MB; stay well under it.
IMAGE_LIMIT = 3 * 1024 * 1024


@lru_cache(maxsize=4)
def _client_for(secret: str, base_url: str | None, timeout: float) -> RunwayML:
    return RunwayML(api_key=secret, base_url=base_url, max_retries=0, timeout=timeout)


def client() -> RunwayML:
    settings = get_settings()
    secret = settings.runwayml_api_secret.get_secret_value() if settings.runwayml_api_secret else ""
    if not secret:
        raise FatalProviderError("Runway is not configured on this server (RUNWAYML_API_SECRET)", provider=VENDOR)
    return _client_for(secret, settings.runway_base_url or None, settings.provider_timeout)


@contextmanager
def _map_errors(what: str) -> Iterator[None]:
    """The one seam where runwayml's exceptions become :mod:`core.errors`."""
    try:
        yield
    except APIStatusError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("error") or body.get("message") or ""
        raise status_error(VENDOR, exc.status_code, detail, retry_after=retry_after(exc.response.headers),
                           credential="API secret") from exc
    except APITimeoutError as exc:
        raise timed_out(VENDOR, what) from exc
    except APIConnectionError as exc:
        raise unreachable(VENDOR, exc) from exc
    except RunwayMLError as exc:
        raise FatalProviderError(f"Runway client error on {what}: {safe_text(exc)}", provider=VENDOR) from exc


def _failure(task: Any) -> Exception:
    """A FAILED task's reason: SAFETY codes are content refusals, INTERNAL ones are worth another attempt."""
    code = str(getattr(task, "failure_code", "") or "")
    reason = getattr(task, "failure", "") or "the task failed"
    if "SAFETY" in code.upper():
        return refused(VENDOR, f"{reason} ({code})")
    if code.upper().startswith("INTERNAL"):
        return RetryableProviderError(f"Runway failed temporarily: {safe_text(reason)} ({code})", provider=VENDOR)
    return failed_job(VENDOR, f"{reason} ({code})" if code else reason)


class RunwayVideoProvider:
    """A clip of the scene's still with the configured model (``REELFLOW_RUNWAY_MODEL``, e.g. ``gen4_turbo``)."""

    name = VENDOR

    def animate(self, request: ClipRequest, out: Path) -> Path:
        c = client()
        ratio: Any = RATIOS.get(request.aspect_ratio, "1280:720")
        model: Any = get_settings().runway_model
        with limited(VENDOR):
            with _map_errors("creating the task"):
                created = c.image_to_video.create(
                    model=model, prompt_image=image_data_url(request.image, IMAGE_LIMIT),
                    prompt_text=request.prompt[:1000], ratio=ratio, duration=int(request.duration),
                )

            def fetch() -> Any:
                with _map_errors("polling the task"):
                    return c.tasks.retrieve(created.id)

            def cancel() -> None:
                with _map_errors("cancelling the task"):
                    c.tasks.delete(created.id)

            task = poll(VENDOR, fetch, lambda t: t.status in TERMINAL, cancel=cancel, what="the video clip")
            if task.status == "SUCCEEDED":
                if not task.output:
                    raise bad_response(VENDOR, "the task succeeded without an output URL")
                out.write_bytes(download(VENDOR, str(task.output[0])))
                return out
        if task.status == "CANCELLED":
            raise failed_job(VENDOR, "the task was cancelled")
        raise _failure(task)
