"""The seed API contract as pydantic models, with every validation rule of the quick-video API.

Request models are strict (a string is not a boolean, a number is not a string) and every failure becomes one
:class:`~core.errors.InvalidRequest` whose message names the field and the reason in plain words, so the API can
answer 400 with it directly. Result models are what flows return and what ``/status`` shows.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core import catalog
from core.rules import check_text, check_webhook_url, parse_body
from core.rules import rule_error as _fail
from core.scene_media import SceneMedia, scene_objects
from core.styles import DEFAULT_CAPTIONS, MOVIE_MUSIC, NARRATIVE_MUSIC, CaptionOptions, MusicOptions
from core.textrules import entries_problem, lines_problem

AspectRatio = Literal["16:9", "9:16", "1:1"]
MAX_SCENES = 20
MAX_PROMPT_CHARS = 500
MAX_MOVIE_SECONDS = 120.0
NAMES = ("speaker", "provider", "image_model", "video_model")  # name-like fields: no control character at all


def _check_model(value: str | None, kind: catalog.Kind, field: str | None = None, why: str = "") -> str:
    express = ", ".join(m.key for m in catalog.models_of(kind, express_only=True))
    if value is None or not value.strip():
        raise _fail(f"is required{why}; express {kind} models: {express}", field)
    entry = catalog.find_model(value)
    if entry is None or entry.kind != kind:
        raise _fail(f"'{value}' is not a known {kind} model; express {kind} models: {express}", field)
    if entry.retired:  # the wording keeps "not an express model" so callers matching on it still recognise it
        raise _fail(f"'{value}' is not an express model and can no longer be served: {entry.retired}", field)
    if not entry.express:
        raise _fail(f"'{value}' is not an express model and is not served by the quick API; use one of: {express}",
                    field)
    return value


class VoiceChoice(BaseModel):
    """The resolved narration voice: provider key and voice name, both from the catalog."""

    provider: str = "OPENAI"
    speaker: str = "alloy"


def resolve_voice(speaker: str | None, provider: str | None) -> VoiceChoice:
    """Check speaker/provider against the catalog; fill the defaults (alloy on OPENAI)."""
    if provider is not None:
        row = catalog.find_voice_provider(provider)
        if row is None:
            live = ", ".join(v.key for v in catalog.VOICE_PROVIDERS if not v.retired)
            raise _fail(f"provider '{provider}' is not a known voice provider; use one of: {live}", "provider")
        if row.retired:
            raise _fail(row.retired, "provider")
        voice = speaker if speaker is not None else row.default_voice
        if voice not in row.voices:
            raise _fail(f"speaker '{voice}' is not a voice of {row.key}; voices: {', '.join(row.voices)}", "speaker")
        return VoiceChoice(provider=row.key, speaker=voice)
    if speaker is None:
        default = catalog.default_voice_provider()
        return VoiceChoice(provider=default.key, speaker=default.default_voice)
    owner = catalog.voice_owner(speaker)
    if owner is None:
        raise _fail(f"speaker '{speaker}' is not a known voice; OPENAI voices: {', '.join(catalog.OPENAI_VOICES)}",
                    "speaker")
    return VoiceChoice(provider=owner.key, speaker=speaker)


class NarrativeInput(BaseModel):
    """The ``input`` object of ``POST /create_narrative``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    prompt_list: list[StrictStr]
    speaker: StrictStr | None = None
    provider: StrictStr | None = None
    add_generative_video: StrictBool = False
    image_model: StrictStr | None = Field(default=None, validate_default=True)
    video_model: StrictStr | None = None
    aspect_ratio: AspectRatio = "16:9"
    #: Our extensions (core.styles): background music (none unless asked: the seed behaviour) and caption style.
    music: MusicOptions = NARRATIVE_MUSIC
    captions: CaptionOptions = DEFAULT_CAPTIONS
    #: Caller media by scene number, taken from ``prompt_list`` objects (see ``core.scene_media``).
    scene_media: dict[int, SceneMedia] = Field(default_factory=dict, json_schema_extra={"readOnly": True})

    @model_validator(mode="before")
    @classmethod
    def _objects(cls, data: Any) -> Any:
        return scene_objects(data)

    @field_validator("prompt_list", mode="before")
    @classmethod
    def _split_lines(cls, value: Any) -> Any:
        if isinstance(value, str):  # checked whole: splitlines() also splits on some control characters
            value = check_text(value, multiline=True).splitlines()
        if not isinstance(value, list):
            raise _fail("must be a list of strings or one newline-separated string")
        if not all(isinstance(line, str) for line in value):
            raise _fail("every entry must be a string or a {\"text\": …, \"image_url\": …} object")
        if (problem := entries_problem(value)) is not None:
            raise _fail(problem)
        lines = [line.strip() for line in value if line.strip()]
        if not lines:
            raise _fail("must hold at least one non-empty line")
        if len(lines) > MAX_SCENES:
            raise _fail(f"has {len(lines)} lines; at most {MAX_SCENES} are allowed")
        if (problem := lines_problem(lines)) is not None:
            raise _fail(problem)
        return lines

    _plain_text = field_validator(*NAMES, mode="before")(classmethod(lambda cls, v: check_text(v)))

    @field_validator("image_model")
    @classmethod
    def _image_model(cls, value: str | None) -> str:
        return _check_model(value, "image")

    @model_validator(mode="after")
    def _cross_field(self) -> NarrativeInput:
        if self.add_generative_video or self.video_model is not None:
            _check_model(self.video_model, "video", "video_model", " when add_generative_video is true")
            entry = catalog.find_model(self.video_model or "")
            if self.add_generative_video and entry is not None and self.aspect_ratio not in entry.aspect_ratios:
                raise _fail(f"{entry.key} does not offer {self.aspect_ratio}; use one of: "
                            f"{', '.join(entry.aspect_ratios)}", "aspect_ratio")
        resolve_voice(self.speaker, self.provider)
        return self

    @property
    def voice(self) -> VoiceChoice:
        return resolve_voice(self.speaker, self.provider)


class NarrativeRequest(BaseModel):
    """The whole body of ``POST /create_narrative``: the input and an optional callback URL."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    input: NarrativeInput
    webhookUrl: StrictStr | None = None  # noqa: N815 - the seed's spelling

    _webhook = field_validator("webhookUrl")(classmethod(lambda cls, v: check_webhook_url(v)))


def parse_narrative(payload: Any) -> NarrativeRequest:
    """Validate a create_narrative body; raise :class:`InvalidRequest` with a readable message."""
    return parse_body(NarrativeRequest, payload, "an 'input' object")


class MovieInput(BaseModel):
    """The ``input`` object of ``POST /create_movie``. ``speaker``/``provider`` (the narration voice), ``narration``
    (false: no voice, no captions), ``transition`` (``fade``: through black at every cut), ``music`` and
    ``captions`` are our extensions."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    prompt: StrictStr
    image_model: StrictStr | None = Field(default=None, validate_default=True)
    video_model: StrictStr | None = Field(default=None, validate_default=True)
    duration: StrictFloat = Field(description="Seconds, a JSON number", json_schema_extra={
        "exclusiveMinimum": 0, "maximum": MAX_MOVIE_SECONDS})
    aspect_ratio: AspectRatio = "16:9"
    speaker: StrictStr | None = None
    provider: StrictStr | None = None
    narration: StrictBool = True
    transition: Literal["cut", "fade"] = "cut"
    #: Background music (calm unless asked otherwise) and caption style, as for narratives (core.styles).
    music: MusicOptions = MOVIE_MUSIC
    captions: CaptionOptions = DEFAULT_CAPTIONS

    _plain_text = field_validator(*NAMES, mode="before")(classmethod(lambda cls, v: check_text(v)))

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str) -> str:
        check_text(value, multiline=True)
        text = value.strip()
        if not text:
            raise _fail("must not be empty")
        if len(text) > MAX_PROMPT_CHARS:
            raise _fail(f"has {len(text)} characters; at most {MAX_PROMPT_CHARS} are allowed")
        return text

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:  # a JSON number only: "30" and true are refused, never coerced
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail("must be a number of seconds (a JSON number, not a string or a boolean)")
        if isinstance(value, float) and math.isnan(value):
            raise _fail("must be a finite number of seconds")
        if value <= 0:
            raise _fail("must be greater than 0 seconds")
        if value > MAX_MOVIE_SECONDS:
            raise _fail(f"must be at most {MAX_MOVIE_SECONDS:g} seconds")
        return float(value)

    @field_validator("image_model", "video_model")
    @classmethod
    def _models(cls, value: str | None, info: ValidationInfo) -> str:
        return _check_model(value, "image" if info.field_name == "image_model" else "video")

    @model_validator(mode="after")
    def _cross_field(self) -> MovieInput:
        entry = catalog.find_model(self.video_model or "")
        shortest = min(entry.clip_lengths, default=0.0) if entry else 0.0
        if entry is not None and self.duration < shortest:
            raise _fail(f"{self.duration:g} s is shorter than the shortest clip of {entry.key}; the minimum is "
                        f"{shortest:g} seconds", "duration")
        if entry is not None and self.aspect_ratio not in entry.aspect_ratios:
            raise _fail(f"{entry.key} does not offer {self.aspect_ratio}; use one of: {', '.join(entry.aspect_ratios)}",
                        "aspect_ratio")
        resolve_voice(self.speaker, self.provider)
        return self

    @property
    def voice(self) -> VoiceChoice:
        return resolve_voice(self.speaker, self.provider)


class MovieRequest(BaseModel):
    """The whole body of ``POST /create_movie``: the input and an optional callback URL."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    input: MovieInput
    webhookUrl: StrictStr | None = None  # noqa: N815 - the seed's spelling

    _webhook = field_validator("webhookUrl")(classmethod(lambda cls, v: check_webhook_url(v)))


def parse_movie(payload: Any) -> MovieRequest:
    """Validate a create_movie body; raise :class:`InvalidRequest` with a readable message."""
    return parse_body(MovieRequest, payload, "an 'input' object")
