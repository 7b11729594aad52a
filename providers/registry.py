"""Picks the provider that serves a catalog key on this server, and counts every provider call.

Routing, in order: offline mode (``REELFLOW_OFFLINE=true``, or no vendor credential at all) serves everything with
the local renderers; otherwise a row is served by its catalog ``backend`` when that vendor's credential is set, by
its ``fallback_backend`` when only that one is set, and is refused with a message naming the missing variable.
The same rule answers the API at create time (:func:`availability_error`) and the tasks at run time, so a request
the API accepted is never silently rendered by something else. Vendor modules are imported lazily: the API process
asks availability questions without loading any SDK.

The call counter is a process-level metric (what tests and the logs use to prove that a cached rerun called no
provider at all).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import catalog
from core.contract import NarrativeInput
from core.errors import InvalidRequest
from core.settings import get_settings
from providers.base import ClipRequest, ImageProvider, ImageRequest, Speech, SpeechProvider, VideoProvider

log = logging.getLogger(__name__)
_lock = threading.Lock()
CALLS: Counter[str] = Counter()
CREDENTIALS = {"replicate": "REPLICATE_API_TOKEN", "openai": "OPENAI_API_KEY", "runway": "RUNWAYML_API_SECRET",
               "elevenlabs": "ELEVENLABS_API_KEY"}


@dataclass(frozen=True)
class Route:
    """Who renders a catalog row here: ``backend`` ("local" or a vendor) and the vendor's model id."""

    backend: str
    model_id: str = ""

    @property
    def renderer(self) -> str:
        """A stable name for cache keys: local and vendor outputs of the same inputs never share a key."""
        return self.backend if self.backend == "local" else f"{self.backend}:{self.model_id}"


def _count(kind: str) -> None:
    with _lock:
        CALLS[kind] += 1


def has_credentials(backend: str) -> bool:
    """True when the vendor's credential is set (the local backend always is)."""
    if backend == "local":
        return True
    settings = get_settings()
    secret = {"replicate": settings.replicate_api_token, "openai": settings.openai_api_key,
              "runway": settings.runwayml_api_secret, "elevenlabs": settings.elevenlabs_api_key}.get(backend)
    return secret is not None and bool(secret.get_secret_value())


def _model_id(backend: str, entry: catalog.ModelEntry) -> str:
    settings = get_settings()
    if backend == "openai" and entry.kind == "image":
        return settings.openai_image_model  # OpenAI retires image models; the server picks the live one
    if backend == "runway":
        return settings.runway_model
    return entry.vendor_model_id if backend == entry.backend else entry.fallback_model_id


def route_model(entry: catalog.ModelEntry) -> Route | str:
    """The route for a model row, or the reason it cannot be served here."""
    if get_settings().is_offline:
        return Route("local")
    for backend in (entry.backend, entry.fallback_backend):
        if backend and has_credentials(backend):
            return Route(backend, _model_id(backend, entry))
    needed = CREDENTIALS.get(entry.backend, entry.backend)
    if entry.fallback_backend:
        needed += f" (or {CREDENTIALS.get(entry.fallback_backend, entry.fallback_backend)})"
    return f"{entry.key} needs {needed} on this server"


def route_voice(row: catalog.VoiceProvider) -> Route | str:
    """The route for a voice provider, or the reason it cannot be served here."""
    if row.retired:
        return row.retired
    if row.backend == "local" or get_settings().is_offline:
        return Route("local")
    if not has_credentials(row.backend):
        return f"{row.key} voices need {CREDENTIALS.get(row.backend, row.backend)} on this server"
    settings = get_settings()
    model = settings.openai_tts_model if row.backend == "openai" else settings.elevenlabs_model
    return Route(row.backend, model)


def check_available(key: str) -> str | None:
    """None when a model key or voice provider key can be served on this server, else the reason (a 400 message)."""
    entry = catalog.find_model(key)
    if entry is not None:
        route = route_model(entry)
    elif (row := catalog.find_voice_provider(key)) is not None:
        route = route_voice(row)
    else:
        return f"'{key}' is not a known model or voice provider"
    return route if isinstance(route, str) else None


def availability_error(input: NarrativeInput) -> str | None:
    """Why a validated narrative cannot be served on this server (missing vendor credentials), or None."""
    keys = [input.image_model or ""]
    if input.add_generative_video and input.video_model:
        keys.append(input.video_model)
    keys.append(input.voice.provider)
    return next((problem for key in keys if (problem := check_available(key))), None)


def _resolve(model_key: str, kind: catalog.Kind) -> Route:
    entry = catalog.find_model(model_key)
    if entry is None or entry.kind != kind:
        raise InvalidRequest(f"'{model_key}' is not a known {kind} model")
    route = route_model(entry)
    if isinstance(route, str):
        raise InvalidRequest(route)
    return route


def renderer_for(model_key: str) -> str:
    """Who renders a model key here, for cache keys ("unavailable" when nobody can)."""
    entry = catalog.find_model(model_key)
    route = route_model(entry) if entry else "unknown"
    return route.renderer if isinstance(route, Route) else "unavailable"


def voice_renderer_for(provider_key: str) -> str:
    """Who narrates for a voice provider here, for cache keys."""
    row = catalog.find_voice_provider(provider_key)
    route = route_voice(row) if row else "unknown"
    return route.renderer if isinstance(route, Route) else "unavailable"


def _image_provider(route: Route) -> ImageProvider:
    if route.backend == "replicate":
        from providers.replicate_api import ReplicateImageProvider

        return ReplicateImageProvider(route.model_id)
    if route.backend == "openai":
        from providers.openai_api import OpenAIImageProvider

        return OpenAIImageProvider(route.model_id)
    from providers.local.frames import LocalImageProvider

    return LocalImageProvider()


def _video_provider(route: Route) -> VideoProvider:
    if route.backend == "replicate":
        from providers.replicate_api import ReplicateVideoProvider

        return ReplicateVideoProvider(route.model_id)
    if route.backend == "runway":
        from providers.runway_api import RunwayVideoProvider

        return RunwayVideoProvider()
    from providers.local.motion import LocalVideoProvider

    return LocalVideoProvider()


def _speech_provider(route: Route) -> SpeechProvider:
    if route.backend == "openai":
        from providers.openai_api import OpenAISpeechProvider

        return OpenAISpeechProvider()
    if route.backend == "elevenlabs":
        from providers.elevenlabs_api import ElevenLabsSpeechProvider

        return ElevenLabsSpeechProvider()
    from providers.local.voice import LocalSpeechProvider

    return LocalSpeechProvider()


def generate_image(model_key: str, request: ImageRequest) -> tuple[bytes, str]:
    """Generate a still with the provider serving ``model_key``; returns the bytes and who rendered them."""
    provider = _image_provider(_resolve(model_key, "image"))
    _count("image")
    return provider.generate(request), provider.name


def synthesize(provider_key: str, text: str, voice: str) -> Speech:
    """Narrate one scene with the voice provider's voice."""
    row = catalog.find_voice_provider(provider_key)
    if row is None:
        raise InvalidRequest(f"'{provider_key}' is not an available voice provider")
    route = route_voice(row)
    if isinstance(route, str):
        raise InvalidRequest(route)
    provider = _speech_provider(route)
    _count("speech")
    return provider.synthesize(text, voice)


def animate(model_key: str, request: ClipRequest, out: Path) -> tuple[Path, str]:
    """Make an image-to-video clip with the provider serving ``model_key``."""
    provider = _video_provider(_resolve(model_key, "video"))
    _count("video")
    return provider.animate(request, out), provider.name


def script_writer_available() -> bool:
    """True when the movie script writer (OpenAI chat completions) can run on this server."""
    return not get_settings().is_offline and has_credentials("openai")


def write_script(system: str, user: str, json_schema: dict[str, Any], *, model: str | None = None) -> dict[str, Any]:
    """A JSON object following ``json_schema`` from the script model (``REELFLOW_OPENAI_SCRIPT_MODEL`` by default)."""
    if not script_writer_available():
        raise InvalidRequest("the movie script writer needs OPENAI_API_KEY on this server")
    from providers.openai_api import write_script as openai_write_script

    _count("script")
    return openai_write_script(system, user, json_schema, model=model or get_settings().openai_script_model)
