"""The model catalog: one table of every image model, video model and voice reelflow knows.

Keys are the seed API's (Samsar's) model keys. ``express`` mirrors Samsar's ``isExpressModel``: only express models
are accepted by the quick API; the others are listed so callers get a precise refusal instead of "unknown".
``backend`` names the vendor that serves the row when its credentials are configured (``fallback_backend`` when only
that one is configured); in offline mode every row is served by the local renderers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["image", "video"]
Backend = Literal["replicate", "openai", "runway", "elevenlabs", "local"]
ALL_ASPECTS: tuple[str, ...] = ("16:9", "9:16", "1:1")


@dataclass(frozen=True)
class ModelEntry:
    """One model row: how callers name it and who serves it."""

    key: str
    kind: Kind
    display_name: str
    express: bool
    backend: Backend
    vendor_model_id: str
    aspect_ratios: tuple[str, ...] = ALL_ASPECTS
    clip_lengths: tuple[float, ...] = field(default=())
    #: Served by this backend and vendor model instead when ``backend`` has no credentials but this one has.
    fallback_backend: Backend | None = None
    fallback_model_id: str = ""


@dataclass(frozen=True)
class VoiceProvider:
    """A TTS provider and its voices; ``retired`` carries the reason when the service no longer exists."""

    key: str
    backend: Backend
    voices: tuple[str, ...]
    default_voice: str
    retired: str = ""


MODELS: tuple[ModelEntry, ...] = (
    ModelEntry("FLUX1.1PRO", "image", "Flux 1.1 Pro", True, "replicate", "black-forest-labs/flux-1.1-pro"),
    ModelEntry("IMAGEN3", "image", "Imagen 3", True, "replicate", "google/imagen-3"),
    ModelEntry("DALLE3", "image", "DALL·E 3", False, "openai", "dall-e-3"),
    ModelEntry("FLUX1PRO", "image", "Flux 1 Pro", False, "replicate", "black-forest-labs/flux-pro"),
    ModelEntry("FLUX1.1ULTRA", "image", "Flux 1.1 Ultra", False, "replicate", "black-forest-labs/flux-1.1-pro-ultra"),
    ModelEntry("RECRAFTV3", "image", "Recraft V3", False, "replicate", "recraft-ai/recraft-v3"),
    ModelEntry("SDV3.5", "image", "Stable Diffusion 3.5", False, "replicate",
               "stability-ai/stable-diffusion-3.5-large"),
    ModelEntry("GPTIMAGE2", "image", "GPT Image 2", False, "openai", "gpt-image-2"),
    ModelEntry(
        "KLINGIMGTOVIDPRO", "video", "Kling 1.6 Pro (image to video)", True, "replicate",
        "kwaivgi/kling-v1.6-pro", clip_lengths=(5.0, 10.0),
    ),
    ModelEntry(
        "RUNWAYML", "video", "Runway Gen-4 Turbo", True, "runway", "gen4_turbo",
        aspect_ratios=("16:9", "9:16"), clip_lengths=(5.0, 10.0),
        fallback_backend="replicate", fallback_model_id="runwayml/gen4-turbo",
    ),
    ModelEntry("LUMA", "video", "Luma Ray 2", False, "replicate", "luma/ray-2-720p", clip_lengths=(5.0, 9.0)),
    ModelEntry("HAILUO", "video", "Hailuo (MiniMax video-01)", False, "replicate", "minimax/video-01",
               clip_lengths=(6.0,)),
)

OPENAI_VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")

VOICE_PROVIDERS: tuple[VoiceProvider, ...] = (
    VoiceProvider("OPENAI", "openai", OPENAI_VOICES, "alloy"),
    VoiceProvider("ELEVENLABS", "elevenlabs", ("rachel", "adam", "bella", "antoni"), "rachel"),
    VoiceProvider("LOCAL", "local", ("joe",), "joe"),
    VoiceProvider(
        "PLAYHT", "local", (), "",
        retired="PLAYHT was shut down on 2025-12-31; use OPENAI, ELEVENLABS or LOCAL",
    ),
)

_BY_KEY = {m.key: m for m in MODELS}
_VOICES_BY_KEY = {v.key: v for v in VOICE_PROVIDERS}


def find_model(key: str) -> ModelEntry | None:
    """The catalog row for a model key, or None."""
    return _BY_KEY.get(key)


def models_of(kind: Kind, *, express_only: bool = False) -> list[ModelEntry]:
    """Every model of one kind, in catalog order."""
    return [m for m in MODELS if m.kind == kind and (m.express or not express_only)]


def find_voice_provider(key: str) -> VoiceProvider | None:
    """The voice provider row for a provider key (case-insensitive), or None."""
    return _VOICES_BY_KEY.get(key.upper())


def voice_owner(voice: str) -> VoiceProvider | None:
    """The first live provider offering a voice name, used when a caller gives a speaker but no provider."""
    for provider in VOICE_PROVIDERS:
        if not provider.retired and voice in provider.voices:
            return provider
    return None
