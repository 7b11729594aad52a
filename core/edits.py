"""Editing a finished video (an API extension): the ``POST /v1/video/edit`` body and the plan a flow follows.

An edit never changes how a job is made, only what goes into it: the original request is replayed with per-scene
overrides (:class:`SceneOverride`). A reroll is a new seed for one asset of one scene; a new line replaces only the
narration and captions (the still keeps the original line's prompt and seed); a caller's ``image_url`` or
``video_url`` replaces the generated still or clip. Everything else keeps its content key, so the cache returns it
and only the changed scene is rendered again. Overrides of an edited job add up when that job is edited again.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictStr, field_validator, model_validator

from core.contract import MAX_PROMPT_CHARS
from core.errors import InvalidRequest
from core.rules import check_webhook_url, parse_body
from core.rules import rule_error as _fail
from core.scene_media import check_media_url

RerollTarget = Literal["image", "voice", "clip", "all"]
#: What each reroll target gives a new seed.
REROLLS: dict[str, tuple[str, ...]] = {"image": ("image",), "voice": ("voice",), "clip": ("clip",),
                                       "all": ("image", "voice", "clip")}


class SceneEdit(BaseModel):
    """What the caller asks to change in one scene; at least one field is set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reroll: RerollTarget | None = None
    text: StrictStr | None = None
    image_url: StrictStr | None = None
    video_url: StrictStr | None = None

    @field_validator("reroll", mode="before")
    @classmethod
    def _reroll(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, str) or value not in REROLLS):
            raise _fail(f"'{value}' is not a reroll target; use one of: {', '.join(REROLLS)}")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not text:
            raise _fail("must not be empty")
        if len(text) > MAX_PROMPT_CHARS:
            raise _fail(f"has {len(text)} characters; at most {MAX_PROMPT_CHARS} are allowed")
        return text

    _urls = field_validator("image_url", "video_url")(classmethod(lambda cls, v: check_media_url(v)))

    @model_validator(mode="after")
    def _not_empty(self) -> SceneEdit:
        if not any((self.reroll, self.text, self.image_url, self.video_url)):
            raise _fail("is empty; set reroll, text, image_url or video_url")
        return self


class EditRequest(BaseModel):
    """The body of ``POST /v1/video/edit``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    request_id: StrictStr
    scenes: dict[str, SceneEdit]
    webhookUrl: StrictStr | None = None  # noqa: N815 - the seed's spelling

    _webhook = field_validator("webhookUrl")(classmethod(lambda cls, v: check_webhook_url(v)))

    @field_validator("request_id")
    @classmethod
    def _request_id(cls, value: str) -> str:
        if not value.strip():
            raise _fail("must not be empty")
        return value.strip()

    @field_validator("scenes", mode="before")
    @classmethod
    def _scene_numbers(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise _fail("must be an object of scene number → change, e.g. {\"3\": {\"reroll\": \"image\"}}")
        if not value:
            raise _fail("is empty; an edit changes at least one scene")
        for number in value:
            if not (str(number).isascii() and str(number).isdigit()) or int(number) < 1:
                raise _fail(f"'{number}' is not a scene number (1, 2, 3, …)")
        return {str(int(k)): v for k, v in value.items()}


def parse_edit(payload: Any) -> EditRequest:
    """Validate an edit body; raise :class:`InvalidRequest` naming the field."""
    return parse_body(EditRequest, payload, "'request_id' and 'scenes'")


class SceneOverride(BaseModel):
    """How one scene of a replayed request differs from the original: seed bumps, a new line, caller media.

    A URL of ``""`` means "the caller's media was dropped" (a reroll replaced it with a generated asset).
    """

    model_config = ConfigDict(frozen=True)

    text: str | None = None
    image_seed: int = 0
    voice_seed: int = 0
    clip_seed: int = 0
    image_url: str | None = None
    video_url: str | None = None


class EditPlan(BaseModel):
    """The ``edit`` parameter of a narrative or movie run made by ``/edit``."""

    model_config = ConfigDict(frozen=True)

    edited_from: str
    scenes: dict[int, SceneOverride]
    #: The original's scene clips by scene number: a scene that renders to the same clip was reused.
    previous_clips: dict[int, str]


def _apply(override: SceneOverride, change: SceneEdit) -> SceneOverride:
    update: dict[str, Any] = {}
    for asset in REROLLS.get(change.reroll or "", ()):
        update[f"{asset}_seed"] = getattr(override, f"{asset}_seed") + 1
        if asset in ("image", "clip"):  # a reroll draws a new asset, so the caller's own file is dropped
            update["image_url" if asset == "image" else "video_url"] = ""
    if change.text is not None:
        update["text"] = change.text
    if change.image_url is not None:
        update["image_url"] = change.image_url
    if change.video_url is not None:
        update["video_url"] = change.video_url
    return override.model_copy(update=update)


def plan_edit(edit: EditRequest, previous: EditPlan | None, scene_clips: dict[int, str],
              generative: bool) -> EditPlan:
    """The new job's plan: the previous overrides (if the job was itself an edit) plus this edit.

    ``scene_clips`` are the original's clips by scene number; ``generative`` is whether its scenes have generated
    clips (a clip reroll needs one). Raises :class:`InvalidRequest` naming the field for a scene out of range.
    """
    count = len(scene_clips)
    scenes = dict(previous.scenes) if previous else {}
    for number, change in edit.scenes.items():
        index = int(number)
        if index > count:
            raise InvalidRequest(f"scenes.{number}: request {edit.request_id} has {count} scenes (1–{count})")
        if change.reroll == "clip" and not generative:
            raise InvalidRequest(f"scenes.{number}.reroll: 'clip' needs a job with generated clips "
                                 "(add_generative_video); reroll 'image' or send a video_url instead")
        scenes[index] = _apply(scenes.get(index, SceneOverride()), change)
    return EditPlan(edited_from=edit.request_id, scenes=scenes, previous_clips=scene_clips)
