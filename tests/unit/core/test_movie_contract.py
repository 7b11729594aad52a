"""Every create_movie rule, with the message a caller sees."""

from __future__ import annotations

from typing import Any

import pytest

from core.contract import parse_movie
from core.errors import InvalidRequest


def body(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"prompt": "A fox in the snow.", "image_model": "FLUX1.1PRO",
                            "video_model": "KLINGIMGTOVIDPRO", "duration": 30}
    base.update(fields)
    return {"input": {k: v for k, v in base.items() if v is not ...}}


def test_defaults_and_trimming() -> None:
    req = parse_movie(body(prompt="  A fox in the snow.  "))
    spec = req.input
    assert spec.prompt == "A fox in the snow." and spec.duration == 30.0 and isinstance(spec.duration, float)
    assert (spec.aspect_ratio, spec.narration, spec.transition) == ("16:9", True, "cut")
    assert (spec.voice.provider, spec.voice.speaker) == ("OPENAI", "alloy")
    assert req.webhookUrl is None


@pytest.mark.parametrize("duration", [5, 5.0, 12, 12.5, 30, 119.99, 120, 120.0])
def test_durations_from_the_shortest_clip_to_120_seconds_are_accepted(duration: float) -> None:
    assert parse_movie(body(duration=duration)).input.duration == float(duration)


def test_extensions_and_limits_that_pass() -> None:
    spec = parse_movie(body(prompt="x" * 500, aspect_ratio="9:16", video_model="RUNWAYML", speaker="echo",
                            narration=False, transition="fade")).input
    assert (spec.aspect_ratio, spec.narration, spec.transition, spec.voice.speaker) == ("9:16", False, "fade", "echo")
    assert parse_movie(body(aspect_ratio="1:1")).input.aspect_ratio == "1:1", "Kling offers square clips"
    assert parse_movie(body(provider="LOCAL")).input.voice.speaker == "joe"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "body: must be a JSON object"),
        ({}, "input: is required"),
        ({"input": "text"}, "input: must be an object"),
        (body(prompt=...), "input.prompt: is required"),
        (body(prompt=""), "input.prompt: must not be empty"),
        (body(prompt=" \n\t "), "input.prompt: must not be empty"),
        (body(prompt="x" * 501), "input.prompt: has 501 characters; at most 500 are allowed"),
        (body(prompt=["a", "b"]), "input.prompt: must be a string"),
        (body(image_model=...), "input.image_model: is required; express image models: FLUX1.1PRO, IMAGEN3"),
        (body(image_model="NOPE"), "input.image_model: 'NOPE' is not a known image model"),
        (body(image_model="DALLE3"), "input.image_model: 'DALLE3' is not an express model"),
        (body(image_model="RUNWAYML"), "input.image_model: 'RUNWAYML' is not a known image model"),
        (body(video_model=...), "input.video_model: is required; express video models: KLINGIMGTOVIDPRO, RUNWAYML"),
        (body(video_model=""), "input.video_model: is required"),
        (body(video_model="LUMA"), "input.video_model: 'LUMA' is not an express model"),
        (body(video_model="FLUX1.1PRO"), "input.video_model: 'FLUX1.1PRO' is not a known video model"),
        (body(video_model=5), "input.video_model: must be a string"),
        (body(duration=...), "input.duration: is required"),
        (body(duration="30"), "input.duration: must be a number of seconds (a JSON number, not a string"),
        (body(duration=True), "input.duration: must be a number of seconds (a JSON number, not a string or a boolean)"),
        (body(duration=False), "input.duration: must be a number of seconds"),
        (body(duration=None), "input.duration: must be a number of seconds"),
        (body(duration=[30]), "input.duration: must be a number of seconds"),
        (body(duration=0), "input.duration: must be greater than 0 seconds"),
        (body(duration=-5), "input.duration: must be greater than 0 seconds"),
        (body(duration=120.01), "input.duration: must be at most 120 seconds"),
        (body(duration=10**400), "input.duration: must be at most 120 seconds"),
        (body(duration=float("inf")), "input.duration: must be at most 120 seconds"),
        (body(duration=float("nan")), "input.duration: must be a finite number of seconds"),
        (body(duration=4.9), "input.duration: 4.9 s is shorter than the shortest clip of KLINGIMGTOVIDPRO; "
                             "the minimum is 5 seconds"),
        (body(duration=1, video_model="RUNWAYML"), "the shortest clip of RUNWAYML; the minimum is 5 seconds"),
        (body(aspect_ratio="4:3"), "input.aspect_ratio: must be one of '16:9', '9:16' or '1:1'"),
        (body(aspect_ratio="1:1", video_model="RUNWAYML"), "input.aspect_ratio: RUNWAYML does not offer 1:1; "
                                                           "use one of: 16:9, 9:16"),
        (body(narration="no"), "input.narration: must be true or false"),
        (body(transition="dissolve"), "input.transition: must be one of 'cut' or 'fade'"),
        (body(speaker="bob"), "input.speaker: speaker 'bob' is not a known voice"),
        (body(provider="PLAYHT"), "PLAYHT was shut down on 2025-12-31"),
        (body(provider="OPENAI", speaker="rachel"), "speaker 'rachel' is not a voice of OPENAI"),
        ({**body(), "webhookUrl": "ftp://example.com/x"}, "webhookUrl: must be an absolute http://"),
        ({**body(), "webhookUrl": 5}, "webhookUrl: must be a string"),
    ],
)
def test_rule_violations_name_the_field_and_reason(payload: Any, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_movie(payload)
    assert message in str(info.value)


def test_every_broken_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_movie({"input": {"prompt": "", "duration": "30"}})
    text = str(info.value)
    for field in ("input.prompt", "input.image_model", "input.video_model", "input.duration"):
        assert field in text


def test_webhook_is_kept() -> None:
    req = parse_movie({**body(), "webhookUrl": " https://example.com/hook "})
    assert req.webhookUrl == "https://example.com/hook"
