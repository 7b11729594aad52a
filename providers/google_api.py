"""Google: Gemini image models, Gemini TTS, Gemini structured output (movie scripts) and Veo image-to-video.

The only module that imports ``google.genai``. Measured with google-genai 3.6.1 (the version pip installs), and why
the code looks like this:

- One key, two clients. ``generate_content`` (images, speech, JSON) runs on the Gemini Developer API client
  (``genai.Client(api_key=...)``), but ``models.generate_videos`` raises ``ValueError: This method is only supported
  in Gemini Enterprise Agent Platform mode`` there, so Veo runs on a Vertex AI express-mode client
  (``genai.Client(vertexai=True, api_key=...)``: ``POST v1beta1/publishers/google/models/<veo>:predictLongRunning``,
  polled with ``operations.get`` = ``:fetchPredictOperation``, the video inline as base64). Both use
  ``GEMINI_API_KEY``; ``GOOGLE_GEMINI_BASE_URL`` / ``GOOGLE_VERTEX_BASE_URL`` (the SDK's own variables, read through
  our settings so ``.env`` works) become ``http_options.base_url``.
- SDK retries off: ``HttpOptions.retry_options`` with ``attempts=1`` makes the SDK's tenacity loop stop after one
  attempt (and keeps its implicit connection retries off), so tasks own every retry. ``timeout`` is milliseconds.
- The Veo operation is polled by :func:`providers.vendor_common.poll` under ``REELFLOW_PROVIDER_JOB_TIMEOUT``; Vertex
  has no cancel for these operations, so a timed-out one is left to finish on its own.
- Errors (``google.genai.errors.ClientError`` / ``ServerError`` / ``APIError`` with ``.code``, transport errors of
  ``httpx2`` (the SDK's default HTTP client since 3.x, a fork of httpx) and of httpx, ``ValueError`` from SDK
  misuse, pydantic errors from unexpected answers) are translated by one table, :data:`ERRORS`. A safety refusal
  (``promptFeedback.blockReason``, a ``SAFETY``-like finish reason, Veo's ``raiMediaFilteredCount``) is a
  ``FatalProviderError`` naming Google and the reason; a wrong key (Google's 400 ``API_KEY_INVALID``) is a 401.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pydantic
from google import genai
from google.genai import errors, types

from core.errors import FatalProviderError, ProviderError
from core.settings import get_settings
from providers.base import ClipRequest, ImageRequest, Speech
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
from providers.vendor_media import as_png, estimated_words, jpeg_bytes, wav_bytes

VENDOR = "google"
#: Finish reasons (candidates) and block reasons (prompt feedback) that mean "the safety system said no".
REFUSALS = frozenset({"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
                      "IMAGE_PROHIBITED_CONTENT", "RECITATION", "IMAGE_RECITATION", "MODEL_ARMOR", "JAILBREAK"})
_RATE = re.compile(r"rate=(\d+)")
_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


def _options(base_url: str | None) -> types.HttpOptions:
    timeout_ms = int(get_settings().provider_timeout * 1000)
    return types.HttpOptions(base_url=base_url or None, timeout=timeout_ms,
                             retry_options=types.HttpRetryOptions(attempts=1))


_clients_lock = threading.Lock()


@lru_cache(maxsize=8)
def _client_for(key: str, vertex: bool, base_url: str | None, timeout: float) -> genai.Client:
    if vertex:  # Vertex AI express mode: API key, no project or location
        return genai.Client(vertexai=True, api_key=key, http_options=_options(base_url))
    return genai.Client(api_key=key, http_options=_options(base_url))


def _cached_client(key: str, vertex: bool, base_url: str | None, timeout: float) -> genai.Client:
    """One client per configuration, built under a lock: ``genai.Client.__del__`` closes its HTTP client, so a
    duplicate built by a racing thread and then dropped would close the connection pool under its caller."""
    with _clients_lock:
        return _client_for(key, vertex, base_url, timeout)


def client(*, vertex: bool = False) -> genai.Client:
    """The Gemini Developer API client, or (``vertex``) the Vertex AI express-mode client, for the current settings."""
    settings = get_settings()
    key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else ""
    if not key:
        raise FatalProviderError("Google is not configured on this server (GEMINI_API_KEY)", provider=VENDOR)
    base_url = settings.google_vertex_base_url if vertex else settings.google_gemini_base_url
    return _cached_client(key, vertex, base_url, settings.provider_timeout)


def _details(exc: errors.APIError) -> list[dict[str, Any]]:
    """The ``google.rpc`` detail objects of an error body (``RetryInfo``, ``ErrorInfo`` ...)."""
    body = exc.details if isinstance(exc.details, dict) else {}
    error = body.get("error", body)
    items = error.get("details") if isinstance(error, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _server_delay(exc: errors.APIError) -> float | None:
    """Seconds to wait from a ``google.rpc.RetryInfo`` detail (``"7s"``), else a ``Retry-After`` header."""
    for detail in _details(exc):
        match = _DELAY.match(str(detail.get("retryDelay", "")))
        if match:
            return float(match.group(1))
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return retry_after(headers) if headers is not None else None


def _api_error(exc: BaseException, what: str) -> ProviderError:
    assert isinstance(exc, errors.APIError)
    message = exc.message or exc.status or ""
    code = exc.code or 500
    if code == 400 and any(d.get("reason") == "API_KEY_INVALID" for d in _details(exc)):
        code = 401  # Google answers a wrong key with 400 INVALID_ARGUMENT; it is an authentication failure
    if code in (400, 403) and re.search(r"safety|usage guidelines|prohibited|blocked", message, re.IGNORECASE):
        return refused(VENDOR, message)
    return status_error(VENDOR, code, message, retry_after=_server_delay(exc))


#: The one seam: every exception the SDK can raise, first match wins (subclasses before their bases).
ERRORS: tuple[tuple[type[BaseException], Callable[[BaseException, str], ProviderError]], ...] = (
    (errors.APIError, _api_error),  # ClientError (4xx) and ServerError (5xx) carry .code
    (httpx2.TimeoutException, lambda exc, what: timed_out(VENDOR, what)),  # the SDK's default transport
    (httpx2.TransportError, lambda exc, what: unreachable(VENDOR, exc)),
    (httpx.TimeoutException, lambda exc, what: timed_out(VENDOR, what)),  # when configured with plain httpx
    (httpx.TransportError, lambda exc, what: unreachable(VENDOR, exc)),
    (pydantic.ValidationError, lambda exc, what: bad_response(VENDOR, f"{what} answer did not match the API schema")),
    (json.JSONDecodeError, lambda exc, what: bad_response(VENDOR, f"{what} answer is not JSON")),
    (ValueError, lambda exc, what: FatalProviderError(f"Google client error on {what}: {safe_text(exc)}",
                                                      provider=VENDOR)),
)


def translate(exc: BaseException, what: str) -> ProviderError | None:
    """The :mod:`core.errors` error for an SDK exception, or None when it is not one the table knows."""
    return next((build(exc, what) for kind, build in ERRORS if isinstance(exc, kind)), None)


@contextmanager
def _map_errors(what: str) -> Iterator[None]:
    """Re-raise SDK exceptions as :mod:`core.errors` (``from`` the original), by :data:`ERRORS`."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:
        mapped = translate(exc, what)
        if mapped is None:
            raise
        raise mapped from exc


def _inline_part(response: types.GenerateContentResponse, what: str) -> types.Blob:
    """The first inline data part of an answer, after checking that the safety system let it through."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise refused(VENDOR, feedback.block_reason_message or f"prompt blocked ({feedback.block_reason.value})")
    candidate = response.candidates[0] if response.candidates else None
    reason = candidate.finish_reason.value if candidate and candidate.finish_reason else ""
    if reason in REFUSALS:
        raise refused(VENDOR, (candidate.finish_message if candidate else None) or f"{what} blocked ({reason})")
    for part in (candidate.content.parts if candidate and candidate.content else None) or []:
        if part.inline_data is not None and part.inline_data.data:
            return part.inline_data
    raise bad_response(VENDOR, f"no {what} in the answer" + (f" (finish reason {reason})" if reason else ""))


class GoogleImageProvider:
    """Stills from a Gemini image model (``generate_content`` with an image modality and the aspect ratio)."""

    name = VENDOR

    def __init__(self, model: str) -> None:
        self.model = model

    def generate(self, request: ImageRequest) -> bytes:
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"], seed=request.seed,
            image_config=types.ImageConfig(aspect_ratio=request.aspect_ratio),
        )
        c = client()
        with limited(VENDOR), _map_errors("the image request"):
            response = c.models.generate_content(model=self.model, contents=request.prompt, config=config)
        blob = _inline_part(response, "image")
        try:
            return as_png(blob.data or b"")
        except ValueError as exc:
            raise bad_response(VENDOR, "the image could not be decoded") from exc


class GoogleSpeechProvider:
    """Narration from Gemini TTS: raw 16-bit PCM (24 kHz) wrapped as WAV; word timings estimated in the voiced span."""

    name = VENDOR

    def __init__(self, model: str) -> None:
        self.model = model

    def synthesize(self, text: str, voice: str) -> Speech:
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))),
        )
        c = client()
        with limited(VENDOR), _map_errors("the speech request"):
            response = c.models.generate_content(model=self.model, contents=text, config=config)
        blob = _inline_part(response, "audio")
        match = _RATE.search(blob.mime_type or "")
        rate = int(match.group(1)) if match else 24000
        pcm = (blob.data or b"")[: len(blob.data or b"") // 2 * 2]
        if not pcm:
            raise bad_response(VENDOR, "the narration is empty")
        return Speech(wav=wav_bytes(pcm, rate), words=estimated_words(text, pcm, rate),
                      duration=len(pcm) / 2 / rate, rendered_by=VENDOR)


def write_script(system: str, user: str, json_schema: dict[str, Any], *, model: str) -> dict[str, Any]:
    """A JSON object following ``json_schema`` (``response_json_schema``); a refusal is fatal, a cut-off retryable."""
    config = types.GenerateContentConfig(system_instruction=system, response_mime_type="application/json",
                                         response_json_schema=json_schema)
    c = client()
    with limited(VENDOR), _map_errors("the script request"):
        response = c.models.generate_content(model=model, contents=user, config=config)
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise refused(VENDOR, f"the script prompt was blocked ({feedback.block_reason.value})")
    candidate = response.candidates[0] if response.candidates else None
    reason = candidate.finish_reason.value if candidate and candidate.finish_reason else ""
    if reason in REFUSALS:
        raise refused(VENDOR, f"the script was blocked ({reason})")
    if reason == "MAX_TOKENS":
        raise bad_response(VENDOR, "the script was cut off at the length limit (finish reason MAX_TOKENS)")
    try:
        script = json.loads(response.text or "")
    except ValueError as exc:
        raise bad_response(VENDOR, "the script is not valid JSON") from exc
    if not isinstance(script, dict):
        raise bad_response(VENDOR, "the script is not a JSON object")
    return script


def _video_bytes(operation: types.GenerateVideosOperation) -> bytes:
    """The clip of a finished Veo operation: inline bytes, or a download for an http(s) URI."""
    if operation.error:
        raise failed_job(VENDOR, operation.error.get("message") or operation.error)
    result = operation.result
    if result is not None and result.rai_media_filtered_count:
        reasons = "; ".join(result.rai_media_filtered_reasons or []) or "the video was filtered"
        raise refused(VENDOR, f"Veo filtered the video ({reasons})")
    videos = (result.generated_videos if result else None) or []
    video = videos[0].video if videos else None
    if video is not None and video.video_bytes:
        return video.video_bytes
    if video is not None and video.uri and video.uri.startswith(("http://", "https://")):
        return download(VENDOR, video.uri)
    raise bad_response(VENDOR, "the operation finished without a video")


class GoogleVideoProvider:
    """Image-to-video clips from Veo on the Vertex AI express-mode client, polled under our own deadline."""

    name = VENDOR

    def __init__(self, model: str) -> None:
        self.model = model

    def animate(self, request: ClipRequest, out: Path) -> Path:
        c = client(vertex=True)
        source = types.GenerateVideosSource(prompt=request.prompt, image=types.Image(
            image_bytes=jpeg_bytes(request.image), mime_type="image/jpeg"))
        config = types.GenerateVideosConfig(duration_seconds=int(round(request.duration)),
                                            aspect_ratio=request.aspect_ratio, number_of_videos=1,
                                            generate_audio=False)
        with limited(VENDOR):
            with _map_errors("creating the video clip"):
                operation = c.models.generate_videos(model=self.model, source=source, config=config)

            def fetch() -> types.GenerateVideosOperation:
                with _map_errors("polling the video clip"):
                    return c.operations.get(operation)

            if not operation.done:
                operation = poll(VENDOR, fetch, lambda op: bool(op.done), cancel=lambda: None, what="the video clip")
            out.write_bytes(_video_bytes(operation))
        return out

