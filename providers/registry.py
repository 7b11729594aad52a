"""Picks the provider that serves a catalog key on this server, and counts every provider call.

Routing, in order: a retired row is refused with its reason; offline mode (``REELFLOW_OFFLINE=true``, or no vendor
credential at all) serves everything with the local renderers; otherwise a row is served by the first of its
backings (``core.catalog.Backing``, in preference order) whose vendor credential is set; if none is, the local
renderers serve it when ``REELFLOW_LOCAL_FALLBACK=true`` (the route says ``fallback``), else it is refused with a
message naming every variable that would serve it. The same rule answers the API at create time
(:func:`availability_error`), ``GET /v1/video/models`` and ``reelflow doctor`` (``providers.availability``) and the
tasks at run time, so a request the API accepted is never silently rendered by something else. Vendor modules are
imported lazily: the API process asks availability questions without loading any SDK.

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
from core.catalog import CREDENTIALS
from core.contract import NarrativeInput
from core.errors import InvalidRequest
from core.settings import get_settings
from providers.base import ClipRequest, ImageProvider, ImageRequest, Speech, SpeechProvider, VideoProvider

log = logging.getLogger(__name__)
_lock = threading.Lock()
CALLS: Counter[str] = Counter()
FALLBACK_HINT = "or set REELFLOW_LOCAL_FALLBACK=true to render it locally"


@dataclass(frozen=True)
class Route:
    """Who renders a catalog row here: ``backend`` ("local" or a vendor) and the vendor's model id.

    ``fallback`` marks a local render of a row no configured vendor serves (``REELFLOW_LOCAL_FALLBACK``).
    """

    backend: str
    model_id: str = ""
    fallback: bool = False

    @property
    def renderer(self) -> str:
        """A stable name for cache keys: local and vendor outputs of the same inputs never share a key."""
        return self.backend if self.backend == "local" else f"{self.backend}:{self.model_id}"


def _count(kind: str) -> None:
    with _lock:
        CALLS[kind] += 1


def count_call(kind: str) -> None:
    """Count one provider call made by a routing module beside this one (``providers.music_source``: "music")."""
    _count(kind)


def has_credentials(backend: str) -> bool:
    """True when the vendor's credential is set (the local backend always is)."""
    return backend == "local" or backend in get_settings().configured_backends()


def model_id_of(backing: catalog.Backing) -> str:
    """The vendor model id a backing uses here: its setting when it names one (vendors retire model ids)."""
    return str(getattr(get_settings(), backing.setting)) if backing.setting else backing.model_id


def _needs(subject: str, backends: list[str]) -> str:
    variables = [CREDENTIALS.get(b, b) for b in dict.fromkeys(backends)]
    alternatives = "".join(f" (or {v})" for v in variables[1:])
    return f"{subject} {variables[0]}{alternatives} on this server; {FALLBACK_HINT}"


def route_model(entry: catalog.ModelEntry) -> Route | str:
    """The route for a model row, or the reason it cannot be served here."""
    if entry.retired:
        return f"{entry.key} can no longer be served: {entry.retired}"
    settings = get_settings()
    if settings.is_offline:
        return Route("local")
    for backing in entry.backings:
        if has_credentials(backing.backend):
            return Route(backing.backend, model_id_of(backing))
    if settings.local_fallback:
        return Route("local", fallback=True)
    return _needs(f"{entry.key} needs", [b.backend for b in entry.backings])


def _voice_model(backend: str) -> str:
    settings = get_settings()
    return {"openai": settings.openai_tts_model, "elevenlabs": settings.elevenlabs_model,
            "google": settings.gemini_tts_model}.get(backend, "")


def route_voice(row: catalog.VoiceProvider) -> Route | str:
    """The route for a voice provider, or the reason it cannot be served here."""
    if row.retired:
        return row.retired
    settings = get_settings()
    if row.backend == "local" or settings.is_offline:
        return Route("local")
    if has_credentials(row.backend):
        return Route(row.backend, _voice_model(row.backend))
    if settings.local_fallback:
        return Route("local", fallback=True)
    return _needs(f"{row.key} voices need", [row.backend])


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
    if route.backend == "google":
        from providers.google_api import GoogleImageProvider

        return GoogleImageProvider(route.model_id)
    from providers.local.frames import LocalImageProvider

    return LocalImageProvider()


def _video_provider(route: Route) -> VideoProvider:
    if route.backend == "replicate":
        from providers.replicate_api import ReplicateVideoProvider

        return ReplicateVideoProvider(route.model_id)
    if route.backend == "runway":
        from providers.runway_api import RunwayVideoProvider

        return RunwayVideoProvider()
    if route.backend == "google":
        from providers.google_api import GoogleVideoProvider

        return GoogleVideoProvider(route.model_id)
    from providers.local.motion import LocalVideoProvider

    return LocalVideoProvider()


def _speech_provider(route: Route) -> SpeechProvider:
    if route.backend == "openai":
        from providers.openai_api import OpenAISpeechProvider

        return OpenAISpeechProvider()
    if route.backend == "elevenlabs":
        from providers.elevenlabs_api import ElevenLabsSpeechProvider

        return ElevenLabsSpeechProvider()
    if route.backend == "google":
        from providers.google_api import GoogleSpeechProvider

        return GoogleSpeechProvider(route.model_id)
    from providers.local.voice import LocalSpeechProvider

    return LocalSpeechProvider()


def generate_image(model_key: str, request: ImageRequest) -> tuple[bytes, str]:
    """Generate a still with the provider serving ``model_key``; returns the bytes and who rendered them."""
    provider = _image_provider(_resolve(model_key, "image"))
    _count("image")
    log.info("image %s: drawing with %s", model_key, provider.name)
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
    log.info("voice %s/%s: narrating with %s", provider_key, voice, route.renderer)
    return provider.synthesize(text, voice)


def animate(model_key: str, request: ClipRequest, out: Path) -> tuple[Path, str]:
    """Make an image-to-video clip with the provider serving ``model_key``."""
    provider = _video_provider(_resolve(model_key, "video"))
    _count("video")
    log.info("clip %s: animating with %s", model_key, provider.name)
    return provider.animate(request, out), provider.name


def script_writer() -> str | None:
    """Which vendor writes movie scripts here ("openai" first, then "google"), or None (the offline planner)."""
    if get_settings().is_offline:
        return None
    return next((vendor for vendor in ("openai", "google") if has_credentials(vendor)), None)


def script_writer_available() -> bool:
    """True when a chat model (OpenAI or Gemini) can write movie scripts on this server."""
    return script_writer() is not None


def script_model() -> str:
    """The chat model that writes scripts here (empty when the offline planner does)."""
    settings = get_settings()
    return {"openai": settings.openai_script_model, "google": settings.gemini_script_model}.get(
        script_writer() or "", "")


def write_script(system: str, user: str, json_schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON object following ``json_schema`` from the script model of the configured vendor."""
    vendor = script_writer()
    if vendor is None:
        raise InvalidRequest("the movie script writer needs OPENAI_API_KEY or GEMINI_API_KEY on this server")
    _count("script")
    if vendor == "google":
        from providers.google_api import write_script as google_write_script

        return google_write_script(system, user, json_schema, model=script_model())
    from providers.openai_api import write_script as openai_write_script

    return openai_write_script(system, user, json_schema, model=script_model())
