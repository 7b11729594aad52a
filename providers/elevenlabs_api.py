"""ElevenLabs: narration with character timestamps (``/v1/text-to-speech/{voice_id}/with-timestamps``) over httpx.

The only module that talks to ElevenLabs. Plain httpx rather than the ``elevenlabs`` SDK: one documented endpoint
is all we need, and httpx gives us the explicit timeout and no retries without fighting an SDK's defaults. The
answer carries a per-character alignment, which becomes exact word timings for captions. Audio is asked for as raw
PCM at 24 kHz (``output_format=pcm_24000``) and wrapped in WAV here, so the length is exact. Catalog voice names
map to ElevenLabs voice ids in :data:`VOICE_IDS`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import httpx

from core.errors import FatalProviderError
from core.settings import get_settings
from providers.base import Speech
from providers.vendor_common import (
    bad_response,
    limited,
    refused,
    retry_after,
    status_error,
    timed_out,
    unreachable,
)
from providers.vendor_media import wav_bytes, words_from_characters

VENDOR = "elevenlabs"
SAMPLE_RATE = 24000
#: The catalog's ElevenLabs voice names and their premade voice ids.
VOICE_IDS = {
    "rachel": "21m00Tcm4TlvDq8ikWAM",
    "adam": "pNInz6obpgDQGcFmaJgB",
    "bella": "EXAVITQu4vr4xnSDxMaL",
    "antoni": "ErXwobaYiN019PkySvjV",
}
_POLICY = re.compile(r"flag|moderat|polic|safety|unsafe", re.IGNORECASE)


@lru_cache(maxsize=4)
def _http(base_url: str, timeout: float) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=timeout)


def _detail(response: httpx.Response) -> tuple[str, str]:
    """``(status code word, message)`` from ElevenLabs' ``{"detail": {"status": ..., "message": ...}}`` bodies."""
    try:
        detail: Any = response.json().get("detail", "")
    except (ValueError, AttributeError):
        return "", ""
    if isinstance(detail, dict):
        return str(detail.get("status") or ""), str(detail.get("message") or "")
    if isinstance(detail, list):  # a 422 validation error: a list of {loc, msg}
        return "validation_error", "; ".join(str(item.get("msg", "")) for item in detail if isinstance(item, dict))
    return "", str(detail)


@contextmanager
def _map_errors(what: str) -> Iterator[None]:
    """The one seam where ElevenLabs' answers and httpx's exceptions become :mod:`core.errors`."""
    try:
        yield
    except httpx.HTTPStatusError as exc:
        code, message = _detail(exc.response)
        if _POLICY.search(code):
            raise refused(VENDOR, message or code) from exc
        raise status_error(VENDOR, exc.response.status_code, message or code,
                           retry_after=retry_after(exc.response.headers)) from exc
    except httpx.TimeoutException as exc:
        raise timed_out(VENDOR, what) from exc
    except httpx.TransportError as exc:
        raise unreachable(VENDOR, exc) from exc


class ElevenLabsSpeechProvider:
    """Narration and word timings for one scene in a catalog voice."""

    name = VENDOR

    def synthesize(self, text: str, voice: str) -> Speech:
        settings = get_settings()
        key = settings.elevenlabs_api_key.get_secret_value() if settings.elevenlabs_api_key else ""
        if not key:
            raise FatalProviderError("ElevenLabs is not configured on this server (ELEVENLABS_API_KEY)",
                                     provider=VENDOR)
        voice_id = VOICE_IDS.get(voice.lower(), voice)
        http = _http(settings.elevenlabs_base_url.rstrip("/"), settings.provider_timeout)
        with limited(VENDOR), _map_errors("the speech request"):
            response = http.post(
                f"/v1/text-to-speech/{voice_id}/with-timestamps",
                params={"output_format": f"pcm_{SAMPLE_RATE}"},
                headers={"xi-api-key": key, "Accept": "application/json"},
                json={"text": text, "model_id": settings.elevenlabs_model},
            )
            response.raise_for_status()
        try:
            body = response.json()
            pcm = base64.b64decode(body["audio_base64"])
            alignment = body.get("alignment") or {}
            characters = list(alignment.get("characters") or [])
            starts = [float(t) for t in alignment.get("character_start_times_seconds") or []]
            ends = [float(t) for t in alignment.get("character_end_times_seconds") or []]
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_response(VENDOR, "the speech answer could not be read") from exc
        pcm = pcm[: len(pcm) // 2 * 2]
        if not pcm:
            raise bad_response(VENDOR, "the narration is empty")
        duration = len(pcm) / 2 / SAMPLE_RATE
        return Speech(wav=wav_bytes(pcm, SAMPLE_RATE), words=words_from_characters(characters, starts, ends, duration),
                      duration=duration, rendered_by=VENDOR)
