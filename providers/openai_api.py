"""OpenAI: stills (GPT image models), narration (``/v1/audio/speech``) and the movie script writer.

The only module that imports ``openai``. The client is built with ``max_retries=0`` and an explicit timeout, so our
tasks own every retry and Prefect records each attempt; every SDK error is translated in :func:`_map_errors`.
Model names are settings because OpenAI retires models (``gpt-image-1`` and ``dall-e-3`` are gone): GPT image
models always answer with ``b64_json``; speech is asked for WAV so the narration's length is exact.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from openai import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    OpenAI,
    OpenAIError,
)

from core.errors import FatalProviderError
from core.settings import get_settings
from providers.base import ImageRequest, Speech
from providers.vendor_common import (
    bad_response,
    limited,
    refused,
    retry_after,
    safe_text,
    status_error,
    timed_out,
    unreachable,
)
from providers.vendor_media import as_png, estimated_words, mono16, parse_wav, wav_bytes

VENDOR = "openai"
#: Native frame sizes of GPT image models per aspect ratio (no crop needed for 16:9 or 9:16).
SIZES = {"16:9": "1536x864", "9:16": "864x1536", "1:1": "1024x1024"}
#: Error codes OpenAI uses when its safety system blocks a prompt or an output.
REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation", "content_filter"})


@lru_cache(maxsize=4)
def _client_for(api_key: str, base_url: str | None, timeout: float) -> OpenAI:
    return OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)


def client() -> OpenAI:
    """The OpenAI client for the current settings (one per key/base URL/timeout; SDK retries off)."""
    settings = get_settings()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key:
        raise FatalProviderError("OpenAI is not configured on this server (OPENAI_API_KEY)", provider=VENDOR)
    return _client_for(key, settings.openai_base_url or None, settings.provider_timeout)


def _detail(exc: APIStatusError) -> tuple[str, str]:
    body = exc.body if isinstance(exc.body, dict) else {}
    return str(body.get("code") or ""), str(body.get("message") or "")


@contextmanager
def _map_errors(what: str) -> Iterator[None]:
    """The one seam where OpenAI's exceptions become :mod:`core.errors` (re-raised ``from`` the original)."""
    try:
        yield
    except APIStatusError as exc:
        code, message = _detail(exc)
        if code in REFUSAL_CODES:
            raise refused(VENDOR, message or code) from exc
        raise status_error(VENDOR, exc.status_code, message, retry_after=retry_after(exc.response.headers)) from exc
    except APITimeoutError as exc:  # before its base class APIConnectionError
        raise timed_out(VENDOR, what) from exc
    except APIConnectionError as exc:
        raise unreachable(VENDOR, exc) from exc
    except APIResponseValidationError as exc:
        raise bad_response(VENDOR, f"{what} answer did not match the API schema") from exc
    except ContentFilterFinishReasonError as exc:
        raise refused(VENDOR, "the output was stopped by the content filter") from exc
    except LengthFinishReasonError as exc:
        raise bad_response(VENDOR, f"{what} answer was cut off at the length limit") from exc
    except OpenAIError as exc:
        raise FatalProviderError(f"OpenAI client error on {what}: {safe_text(exc)}", provider=VENDOR) from exc


class OpenAIImageProvider:
    """Stills from a GPT image model at its native size for the aspect ratio (no seed: OpenAI has none)."""

    name = VENDOR

    def __init__(self, model: str) -> None:
        self.model = model

    def generate(self, request: ImageRequest) -> bytes:
        with limited(VENDOR), _map_errors("the image request"):
            response = client().images.generate(
                model=self.model, prompt=request.prompt, size=SIZES.get(request.aspect_ratio, "1024x1024"), n=1,
                output_format="png",
            )
        data = response.data[0].b64_json if response.data else None
        if not data:
            raise bad_response(VENDOR, "no image in the answer")
        try:
            return as_png(base64.b64decode(data))
        except ValueError as exc:
            raise bad_response(VENDOR, "the image could not be decoded") from exc


class OpenAISpeechProvider:
    """Narration as WAV from ``/v1/audio/speech``; word timings estimated inside the voiced span."""

    name = VENDOR

    def synthesize(self, text: str, voice: str) -> Speech:
        model = get_settings().openai_tts_model
        with limited(VENDOR), _map_errors("the speech request"):
            response = client().audio.speech.create(model=model, voice=voice, input=text, response_format="wav")
            data = response.read()
        try:
            pcm, rate, channels, width = parse_wav(data)
            pcm = mono16(pcm, channels, width)
        except ValueError as exc:
            raise bad_response(VENDOR, f"the narration is not usable audio ({exc})") from exc
        if not pcm:
            raise bad_response(VENDOR, "the narration is empty")
        return Speech(wav=wav_bytes(pcm, rate), words=estimated_words(text, pcm, rate),
                      duration=len(pcm) / 2 / rate, rendered_by=VENDOR)


def _schema_name(schema: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "script"))[:64]


def write_script(system: str, user: str, json_schema: dict[str, Any], *, model: str) -> dict[str, Any]:
    """A JSON object that follows ``json_schema`` exactly (structured outputs, ``strict``), from chat completions.

    A refusal or a content-filter stop is fatal (the same prompt will be refused again); a truncated answer
    (``finish_reason == "length"``) or JSON that does not parse is retryable.
    """
    response_format: Any = {
        "type": "json_schema",
        "json_schema": {"name": _schema_name(json_schema), "strict": True, "schema": json_schema},
    }
    with limited(VENDOR), _map_errors("the script request"):
        completion = client().chat.completions.create(
            model=model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            response_format=response_format,
        )
    if not completion.choices:
        raise bad_response(VENDOR, "no choices in the script answer")
    choice = completion.choices[0]
    if choice.message.refusal:
        raise refused(VENDOR, choice.message.refusal)
    if choice.finish_reason == "content_filter":
        raise refused(VENDOR, "the script was stopped by the content filter")
    if choice.finish_reason == "length":
        raise bad_response(VENDOR, "the script was cut off at the length limit (finish_reason length)")
    try:
        script = json.loads(choice.message.content or "")
    except ValueError as exc:
        raise bad_response(VENDOR, "the script is not valid JSON") from exc
    if not isinstance(script, dict):
        raise bad_response(VENDOR, "the script is not a JSON object")
    return script
