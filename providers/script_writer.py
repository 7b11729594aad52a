"""The movie script writer: a chat model when OpenAI or Gemini is configured, the offline planner otherwise.

``providers.registry.script_writer`` picks the vendor (OpenAI first, then Gemini, by the credentials set); both
are asked for the same JSON schema (OpenAI structured outputs ``strict``, Gemini ``response_json_schema``).

The chat model is asked for JSON that follows :func:`script_schema` exactly (structured outputs, ``strict``), and is
told the scene count and each scene's on-screen seconds, because those are fixed by the video model's clip lengths
before any word is written. What comes back is still checked here, since a schema cannot say "exactly N scenes" in
strict mode: too many scenes are cut, too few (or a shape the schema should have prevented) is a
``RetryableProviderError`` like any other malformed answer, so the task asks again. Narration lines longer than the
scene's word budget are cut at a sentence or clause end (:func:`core.script.fit_line`), whoever wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from core.errors import RetryableProviderError
from core.script import MovieScript, ScriptScene, StyleSheet, fit_line, word_budget
from providers import registry
from providers.local.planner import PLANNER_VERSION, LocalScriptWriter

SYSTEM = (
    "You write scripts for short narrated videos made by an image model, an image-to-video model and a narrator. "
    "First write one style sheet (subject, setting, palette, look) that every scene shares, so the scenes look like "
    "one film: describe the subject the same concrete way each time. Then write the scenes in order. A scene's "
    "'visual' is one or two sentences an image model can draw: the subject, the action, the camera framing; never "
    "ask for text, captions or logos in the picture. A scene's 'narration' is what the narrator says over it, "
    "spoken English that carries the story forward without describing the picture; respect each scene's word "
    "limit. Copy each scene's duration exactly as given."
)


def script_schema() -> dict[str, Any]:
    """The strict JSON schema of a script answer (every property required, no others allowed)."""

    def obj(properties: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "properties": properties, "required": list(properties),
                "additionalProperties": False}

    text = {"type": "string"}
    style = obj({name: {**text, "description": field.description or name}
                 for name, field in StyleSheet.model_fields.items()})
    scene = obj({"visual": text, "narration": text, "duration": {"type": "number"}})
    return {"title": "movie_script", **obj({"style": style, "scenes": {"type": "array", "items": scene}})}


def user_prompt(prompt: str, durations: Sequence[float], narration: bool) -> str:
    """The request for one movie: the idea, then one line per scene with its seconds and word limit."""
    rows = [
        f"{i}. duration {seconds:g} s; narration: "
        + (f"at most {word_budget(seconds)} words" if narration and word_budget(seconds) else "empty string")
        for i, seconds in enumerate(durations, start=1)
    ]
    return "\n".join([f"Movie idea: {prompt}", "", f"Write exactly {len(durations)} scenes:", *rows])


def parse_script(raw: dict[str, Any], durations: Sequence[float], narration: bool, written_by: str,
                 vendor: str = "openai") -> MovieScript:
    """Turn a chat model's answer into a script with our durations and fitted narration, or raise retryable."""
    try:
        style = StyleSheet.model_validate(raw.get("style"))
        scenes = [ScriptScene.model_validate(scene) for scene in raw.get("scenes") or []]
    except (ValidationError, AttributeError) as exc:
        raise RetryableProviderError("the script does not follow the requested JSON schema", provider=vendor) from exc
    if len(scenes) < len(durations):
        raise RetryableProviderError(f"the script has {len(scenes)} scenes where {len(durations)} were asked for",
                                     provider=vendor)
    fitted = [
        ScriptScene(visual=" ".join(scene.visual.split()), duration=seconds,
                    narration=fit_line(scene.narration, word_budget(seconds)) if narration else "")
        for scene, seconds in zip(scenes, durations, strict=False)
    ]
    if any(not scene.visual for scene in fitted):
        raise RetryableProviderError("the script has a scene without a visual", provider=vendor)
    return MovieScript(style=style, scenes=fitted, written_by=written_by)


def writer_name() -> str:
    """Who writes scripts on this server, for the script's cache key: a chat model id or the planner version."""
    vendor = registry.script_writer()
    return f"{vendor}:{registry.script_model()}" if vendor else PLANNER_VERSION


def write_movie_script(prompt: str, durations: Sequence[float], narration: bool) -> MovieScript:
    """The script for ``prompt`` with one scene per planned duration (seconds on screen)."""
    vendor = registry.script_writer()
    if vendor is None:
        script = LocalScriptWriter().write(prompt, durations)
        if narration:
            return script
        return script.model_copy(update={"scenes": [s.model_copy(update={"narration": ""}) for s in script.scenes]})
    raw = registry.write_script(SYSTEM, user_prompt(prompt, durations, narration), script_schema())
    return parse_script(raw, durations, narration, written_by=registry.script_model(), vendor=vendor)
