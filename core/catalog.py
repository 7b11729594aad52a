"""The model catalog: one table of every image model, video model and voice reelflow knows.

Keys are the seed API's (Samsar's) model keys. ``express`` mirrors Samsar's ``isExpressModel``: only express models
are accepted by the quick API; the others are listed so callers get a precise refusal instead of "unknown".
A row names its backends in preference order (:class:`Backing`): the first whose vendor credential is set serves
the row (``providers.registry`` decides), so one vendor key that offers images, video and voice serves a whole job.
A row whose vendor model was shut down keeps its key with ``retired`` saying so and what to use instead, so a caller
gets that sentence rather than "unknown model". In offline mode every row is served by the local renderers.
Where each row's model id, clip lengths and aspect ratios come from is cited per row in ``docs/providers.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.settings import get_settings

Kind = Literal["image", "video"]
Backend = Literal["replicate", "openai", "runway", "elevenlabs", "google", "local"]
ALL_ASPECTS: tuple[str, ...] = ("16:9", "9:16", "1:1")
WIDE_AND_TALL: tuple[str, ...] = ("16:9", "9:16")
#: The variable that configures each vendor backend (what a refusal tells the operator to set).
CREDENTIALS: dict[str, str] = {"replicate": "REPLICATE_API_TOKEN", "openai": "OPENAI_API_KEY",
                               "runway": "RUNWAYML_API_SECRET", "elevenlabs": "ELEVENLABS_API_KEY",
                               "google": "GEMINI_API_KEY"}


@dataclass(frozen=True)
class Backing:
    """One way to serve a row: a vendor backend and its model id (``setting``: a settings field overrides it)."""

    backend: Backend
    model_id: str
    setting: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """One model row: how callers name it and who may serve it, in preference order."""

    key: str
    kind: Kind
    display_name: str
    express: bool
    backings: tuple[Backing, ...]
    aspect_ratios: tuple[str, ...] = ALL_ASPECTS
    clip_lengths: tuple[float, ...] = field(default=())
    #: Why the row can no longer be served and what to use instead; empty while the vendor model is live.
    retired: str = ""

    @property
    def backend(self) -> Backend:
        """The preferred backend (the first backing)."""
        return self.backings[0].backend

    @property
    def vendor_model_id(self) -> str:
        """The preferred backing's model id."""
        return self.backings[0].model_id


@dataclass(frozen=True)
class VoiceProvider:
    """A TTS provider and its voices; ``retired`` carries the reason when the service no longer exists."""

    key: str
    backend: Backend
    voices: tuple[str, ...]
    default_voice: str
    retired: str = ""


def _replicate(model_id: str) -> Backing:
    return Backing("replicate", model_id)


GEMINI_IMAGE = Backing("google", "gemini-3.1-flash-image", setting="gemini_image_model")
OPENAI_IMAGE = Backing("openai", "gpt-image-2", setting="openai_image_model")
VEO = Backing("google", "veo-3.1-generate-001", setting="google_video_model")

MODELS: tuple[ModelEntry, ...] = (
    ModelEntry("FLUX1.1PRO", "image", "Flux 1.1 Pro", True, (_replicate("black-forest-labs/flux-1.1-pro"),)),
    ModelEntry("IMAGEN3", "image", "Imagen 3", True, (_replicate("google/imagen-3"),)),
    ModelEntry("GPTIMAGE2", "image", "GPT Image 2", True, (OPENAI_IMAGE,)),
    ModelEntry("NANOBANANA2", "image", "Nano Banana 2 (Gemini 3.1 Flash Image)", True, (GEMINI_IMAGE,)),
    # Google shut the Imagen API down on 2026-08-17 and names gemini-3.1-flash-image as imagen-4.0's replacement;
    # Replicate's google/imagen-4 is the second way to serve the key.
    ModelEntry("IMAGEN4", "image", "Imagen 4", True, (GEMINI_IMAGE, _replicate("google/imagen-4"))),
    ModelEntry("FLUX1PRO", "image", "Flux 1 Pro", False, (_replicate("black-forest-labs/flux-pro"),)),
    ModelEntry("FLUX1.1ULTRA", "image", "Flux 1.1 Ultra", False, (_replicate("black-forest-labs/flux-1.1-pro-ultra"),)),
    ModelEntry("RECRAFTV3", "image", "Recraft V3", False, (_replicate("recraft-ai/recraft-v3"),)),
    ModelEntry("SDV3.5", "image", "Stable Diffusion 3.5", False,
               (_replicate("stability-ai/stable-diffusion-3.5-large"),)),
    ModelEntry("DALLE3", "image", "DALL·E 3", False, (Backing("openai", "dall-e-3"),),
               retired="OpenAI retired dall-e-3 on 2026-05-12; use GPTIMAGE2 instead"),
    ModelEntry("GPTIMAGE1", "image", "GPT Image 1", False, (Backing("openai", "gpt-image-1"),),
               retired="OpenAI shut gpt-image-1 down on 2026-10-23; use GPTIMAGE2 instead"),
    ModelEntry("KLINGIMGTOVIDPRO", "video", "Kling 1.6 Pro (image to video)", True,
               (_replicate("kwaivgi/kling-v1.6-pro"),), clip_lengths=(5.0, 10.0)),
    ModelEntry("RUNWAYML", "video", "Runway Gen-4 Turbo", True,
               (Backing("runway", "gen4_turbo", setting="runway_model"), _replicate("runwayml/gen4-turbo")),
               aspect_ratios=WIDE_AND_TALL, clip_lengths=(5.0, 10.0)),
    ModelEntry("VEO3.1I2V", "video", "Veo 3.1 (image to video)", True, (VEO, _replicate("google/veo-3.1")),
               aspect_ratios=WIDE_AND_TALL, clip_lengths=(4.0, 6.0, 8.0)),
    ModelEntry("SEEDANCEI2V", "video", "Seedance 1 Pro (image to video)", True,
               (_replicate("bytedance/seedance-1-pro"),), clip_lengths=(4.0, 6.0, 8.0, 10.0, 12.0)),
    ModelEntry("LUMA", "video", "Luma Ray 2", False, (_replicate("luma/ray-2-720p"),), clip_lengths=(5.0, 9.0)),
    ModelEntry("HAILUO", "video", "Hailuo (MiniMax video-01)", False, (_replicate("minimax/video-01"),),
               clip_lengths=(6.0,)),
    ModelEntry("SORA2", "video", "Sora 2", False, (Backing("openai", "sora-2"),), aspect_ratios=WIDE_AND_TALL,
               clip_lengths=(4.0, 8.0, 12.0),
               retired="OpenAI shut the Sora video API down on 2026-09-24; use VEO3.1I2V, KLINGIMGTOVIDPRO or "
                       "RUNWAYML instead"),
)

OPENAI_VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")
#: Gemini TTS's prebuilt voices, as its speech-generation guide names them.
GEMINI_VOICES = (
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe", "Enceladus",
    "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi", "Laomedeia", "Achernar",
    "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia",
    "Sadaltager", "Sulafat",
)

VOICE_PROVIDERS: tuple[VoiceProvider, ...] = (
    VoiceProvider("OPENAI", "openai", OPENAI_VOICES, "alloy"),
    VoiceProvider("GEMINI", "google", GEMINI_VOICES, "Kore"),
    VoiceProvider("ELEVENLABS", "elevenlabs", ("rachel", "adam", "bella", "antoni"), "rachel"),
    VoiceProvider("LOCAL", "local", ("joe",), "joe"),
    VoiceProvider(
        "PLAYHT", "local", (), "",
        retired="PLAYHT was shut down on 2025-12-31; use OPENAI, GEMINI, ELEVENLABS or LOCAL",
    ),
)

_BY_KEY = {m.key: m for m in MODELS}
_VOICES_BY_KEY = {v.key: v for v in VOICE_PROVIDERS}


def find_model(key: str) -> ModelEntry | None:
    """The catalog row for a model key, or None."""
    return _BY_KEY.get(key)


def models_of(kind: Kind, *, express_only: bool = False) -> list[ModelEntry]:
    """Every model of one kind, in catalog order (retired rows are never express)."""
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


def default_voice_provider() -> VoiceProvider:
    """Who narrates when a request names no voice: the first vendor voice this server is configured for.

    OPENAI (alloy) stays the default whenever OpenAI is configured, and offline (the local voice reads it), as the
    seed implies; a Google-only or ElevenLabs-only server narrates with its own vendor instead of refusing.
    """
    settings = get_settings()
    configured = set() if settings.is_offline else settings.configured_backends()
    for provider in VOICE_PROVIDERS:
        if provider.backend in configured and not provider.retired:
            return provider
    return VOICE_PROVIDERS[0]
