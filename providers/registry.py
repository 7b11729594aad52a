"""Picks the provider that serves a catalog key on this server, and counts every provider call.

Offline mode (no vendor credentials, or ``REELFLOW_OFFLINE=true``) serves every model with the local renderers.
The call counter is a process-level metric (what tests and the logs use to prove that a cached rerun called no
provider at all).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path

from core import catalog
from core.errors import InvalidRequest
from core.settings import get_settings
from providers.base import ClipRequest, ImageProvider, ImageRequest, Speech, SpeechProvider, VideoProvider

log = logging.getLogger(__name__)
_lock = threading.Lock()
CALLS: Counter[str] = Counter()


def _count(kind: str) -> None:
    with _lock:
        CALLS[kind] += 1


def _local_image() -> ImageProvider:
    from providers.local.frames import LocalImageProvider

    return LocalImageProvider()


def _local_speech() -> SpeechProvider:
    from providers.local.voice import LocalSpeechProvider

    return LocalSpeechProvider()


def _local_video() -> VideoProvider:
    from providers.local.motion import LocalVideoProvider

    return LocalVideoProvider()


def _backend_note(key: str, backend: str) -> None:
    if not get_settings().is_offline:
        log.warning("%s: the %s backend is not wired on this server yet; rendering it locally", key, backend)


def generate_image(model_key: str, request: ImageRequest) -> tuple[bytes, str]:
    """Generate a still with the provider serving ``model_key``; returns the bytes and who rendered them."""
    entry = catalog.find_model(model_key)
    if entry is None or entry.kind != "image":
        raise InvalidRequest(f"'{model_key}' is not a known image model")
    _backend_note(model_key, entry.backend)
    provider = _local_image()
    _count("image")
    return provider.generate(request), provider.name


def synthesize(provider_key: str, text: str, voice: str) -> Speech:
    """Narrate one scene with the voice provider's voice."""
    row = catalog.find_voice_provider(provider_key)
    if row is None or row.retired:
        raise InvalidRequest(f"'{provider_key}' is not an available voice provider")
    _backend_note(provider_key, row.backend)
    provider = _local_speech()
    _count("speech")
    return provider.synthesize(text, voice)


def animate(model_key: str, request: ClipRequest, out: Path) -> tuple[Path, str]:
    """Make an image-to-video clip with the provider serving ``model_key``."""
    entry = catalog.find_model(model_key)
    if entry is None or entry.kind != "video":
        raise InvalidRequest(f"'{model_key}' is not a known video model")
    _backend_note(model_key, entry.backend)
    provider = _local_video()
    _count("video")
    return provider.animate(request, out), provider.name
