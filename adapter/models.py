"""``GET /v1/video/models``: the catalog as this server serves it (who renders each model, and whether it can).

Callers pick models from this list instead of learning at create time that a key needs credentials the server
lacks. ``available`` and ``served_by`` come from the same routing rule the tasks use (``providers.registry``).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from adapter.auth import KeyIdDep
from adapter.video import AUTH_ERRORS, ApiKeyHeader
from core import catalog
from core.settings import get_settings
from providers import registry

router = APIRouter(prefix="/v1/video", tags=["models"])


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
    vendor_model_id: str
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


class ModelList(BaseModel):
    offline: bool
    models: list[ModelInfo]
    voice_providers: list[VoiceProviderInfo]


def _model(entry: catalog.ModelEntry) -> ModelInfo:
    route = registry.route_model(entry)
    served = route if isinstance(route, registry.Route) else None
    return ModelInfo(
        key=entry.key, kind=entry.kind, display_name=entry.display_name, express=entry.express,
        available=served is not None, unavailable_reason=route if isinstance(route, str) else None,
        backend=entry.backend, served_by=served.backend if served else None,
        vendor_model_id=served.model_id if served and served.model_id else entry.vendor_model_id,
        clip_lengths=list(entry.clip_lengths), aspect_ratios=list(entry.aspect_ratios),
    )


def _voice(row: catalog.VoiceProvider) -> VoiceProviderInfo:
    route = registry.route_voice(row)
    return VoiceProviderInfo(
        key=row.key, backend=row.backend, voices=list(row.voices), default_voice=row.default_voice,
        available=isinstance(route, registry.Route), unavailable_reason=route if isinstance(route, str) else None,
    )


@router.get(
    "/models",
    operation_id="list_models",
    summary="The model catalog: kinds, express flag, clip lengths, aspect ratios, availability on this server",
    responses=AUTH_ERRORS,
)
async def list_models(kid: KeyIdDep, api_key: ApiKeyHeader = None) -> ModelList:
    return ModelList(
        offline=get_settings().is_offline,
        models=[_model(entry) for entry in catalog.MODELS],
        voice_providers=[_voice(row) for row in catalog.VOICE_PROVIDERS],
    )
