"""The catalog as this server serves it: who renders each model and voice here, or what is missing.

One answer for two surfaces: ``GET /v1/video/models`` returns :func:`report` as JSON and ``reelflow doctor`` prints
:func:`lines` of the same report (``--json`` prints the very same JSON), so the API and the CLI cannot disagree.
Both come from :mod:`providers.registry`'s routing, which is also what the tasks use at run time.
"""

from __future__ import annotations

from pydantic import BaseModel

from core import catalog
from core.catalog import CREDENTIALS
from core.settings import get_settings
from providers import registry


class BackendInfo(BaseModel):
    """One way a row can be served: the vendor, its model id here, and the variable that enables it."""

    backend: str
    model_id: str
    variable: str
    configured: bool


class ModelInfo(BaseModel):
    """One catalog model and how this server serves it."""

    key: str
    kind: catalog.Kind
    display_name: str
    express: bool
    available: bool
    unavailable_reason: str | None
    backend: str
    served_by: str | None
    local_fallback: bool
    vendor_model_id: str
    backends: list[BackendInfo]
    retired: str | None
    clip_lengths: list[float]
    aspect_ratios: list[str]


class VoiceProviderInfo(BaseModel):
    """One voice provider, its voices, and whether this server can narrate with it."""

    key: str
    backend: str
    voices: list[str]
    default_voice: str
    available: bool
    unavailable_reason: str | None
    served_by: str | None
    local_fallback: bool


class ModelList(BaseModel):
    """The whole report: offline mode, the local fallback switch, the script writer, every model and voice."""

    offline: bool
    local_fallback: bool
    configured: list[str]
    script_writer: str
    models: list[ModelInfo]
    voice_providers: list[VoiceProviderInfo]


def _model(entry: catalog.ModelEntry) -> ModelInfo:
    route = registry.route_model(entry)
    served = route if isinstance(route, registry.Route) else None
    backends = [BackendInfo(backend=b.backend, model_id=registry.model_id_of(b), variable=CREDENTIALS[b.backend],
                            configured=registry.has_credentials(b.backend)) for b in entry.backings]
    return ModelInfo(
        key=entry.key, kind=entry.kind, display_name=entry.display_name, express=entry.express,
        available=served is not None, unavailable_reason=route if isinstance(route, str) else None,
        backend=entry.backend, served_by=served.backend if served else None,
        local_fallback=bool(served and served.fallback),
        vendor_model_id=served.model_id if served and served.model_id else backends[0].model_id,
        backends=backends, retired=entry.retired or None,
        clip_lengths=list(entry.clip_lengths), aspect_ratios=list(entry.aspect_ratios),
    )


def _voice(row: catalog.VoiceProvider) -> VoiceProviderInfo:
    route = registry.route_voice(row)
    served = route if isinstance(route, registry.Route) else None
    return VoiceProviderInfo(
        key=row.key, backend=row.backend, voices=list(row.voices), default_voice=row.default_voice,
        available=served is not None, unavailable_reason=route if isinstance(route, str) else None,
        served_by=served.backend if served else None, local_fallback=bool(served and served.fallback),
    )


def report() -> ModelList:
    """Every model and voice provider with who serves it on this server (or why nobody does)."""
    settings = get_settings()
    writer = registry.script_writer()
    return ModelList(
        offline=settings.is_offline, local_fallback=settings.local_fallback,
        configured=sorted(settings.configured_backends()),
        script_writer=f"{writer}:{registry.script_model()}" if writer else "local planner",
        models=[_model(entry) for entry in catalog.MODELS],
        voice_providers=[_voice(row) for row in catalog.VOICE_PROVIDERS],
    )


def _served(served_by: str | None, model_id: str, fallback: bool, reason: str | None) -> str:
    if served_by is None:
        return f"refused: {reason}"
    if fallback:
        return "local (REELFLOW_LOCAL_FALLBACK)"
    return served_by if served_by == "local" else f"{served_by} ({model_id})" if model_id else served_by


def lines(data: ModelList) -> list[str]:
    """The report as plain text rows (what ``reelflow doctor`` prints): one line per model and voice provider."""
    mode = "offline: every model renders locally" if data.offline else (
        f"vendors configured: {', '.join(data.configured)}")
    out = [mode, f"local fallback: {'on' if data.local_fallback else 'off'}", f"script writer: {data.script_writer}",
           "", "models:"]
    for m in data.models:
        express = "express" if m.express else "listed"
        out.append(f"  {m.key:<18} {m.kind:<5} {express:<7} "
                   f"{_served(m.served_by, m.vendor_model_id, m.local_fallback, m.unavailable_reason)}")
    out += ["", "voice providers:"]
    for v in data.voice_providers:
        out.append(f"  {v.key:<18} {_served(v.served_by, '', v.local_fallback, v.unavailable_reason)}")
    return out
