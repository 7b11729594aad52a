"""Every create_narrative rule, with the message a caller sees."""

from __future__ import annotations

from typing import Any

import pytest

from core.contract import parse_narrative
from core.errors import InvalidRequest


def body(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"prompt_list": ["A cat on a roof.", "The moon rises."], "image_model": "FLUX1.1PRO"}
    base.update(fields)
    return {"input": {k: v for k, v in base.items() if v is not ...}}


def test_list_form_is_trimmed_and_blank_lines_dropped() -> None:
    req = parse_narrative(body(prompt_list=["  one  ", "", "   ", "two"]))
    assert req.input.prompt_list == ["one", "two"]


def test_string_form_is_split_on_newlines() -> None:
    req = parse_narrative(body(prompt_list="first line\n\n  second line  \r\nthird"))
    assert req.input.prompt_list == ["first line", "second line", "third"]


def test_defaults() -> None:
    req = parse_narrative(body())
    assert req.input.aspect_ratio == "16:9"
    assert req.input.add_generative_video is False
    assert req.input.voice.provider == "OPENAI" and req.input.voice.speaker == "alloy"
    assert req.webhookUrl is None


def test_twenty_lines_is_the_limit() -> None:
    assert len(parse_narrative(body(prompt_list=[f"line {i}" for i in range(20)])).input.prompt_list) == 20


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "body: must be a JSON object"),
        ({}, "input: is required"),
        ({"input": "text"}, "input: must be an object"),
        (body(prompt_list=...), "input.prompt_list: is required"),
        (body(prompt_list=[]), "input.prompt_list: must hold at least one non-empty line"),
        (body(prompt_list="  \n \n"), "input.prompt_list: must hold at least one non-empty line"),
        (body(prompt_list=[f"l{i}" for i in range(21)]), "input.prompt_list: has 21 lines; at most 20 are allowed"),
        (body(prompt_list="\n".join(f"l{i}" for i in range(25))), "has 25 lines; at most 20 are allowed"),
        (body(prompt_list=["ok", 3]), "input.prompt_list: every entry must be a string"),
        (body(prompt_list=42), "input.prompt_list: must be a list of strings or one newline-separated string"),
        (body(image_model=...), "input.image_model: is required"),
        (body(image_model=""), "input.image_model: is required"),
        (body(image_model="NOPE"), "input.image_model: 'NOPE' is not a known image model; express image models: "
                                   "FLUX1.1PRO, IMAGEN3"),
        (body(image_model="DALLE3"), "input.image_model: 'DALLE3' is not an express model"),
        (body(image_model="RUNWAYML"), "'RUNWAYML' is not a known image model"),
        (body(image_model=7), "input.image_model: must be a string"),
        (body(add_generative_video=True), "input.video_model: is required when add_generative_video is true; "
                                           "express video models: KLINGIMGTOVIDPRO, RUNWAYML"),
        (body(add_generative_video=True, video_model="LUMA"), "'LUMA' is not an express model"),
        (body(add_generative_video=True, video_model="FLUX1.1PRO"), "'FLUX1.1PRO' is not a known video model"),
        (body(add_generative_video="yes", video_model="RUNWAYML"), "input.add_generative_video: must be true or false"),
        (body(aspect_ratio="4:3"), "input.aspect_ratio: must be one of '16:9', '9:16' or '1:1'"),
        (body(speaker="bob"), "speaker 'bob' is not a known voice"),
        (body(provider="ACME"),
         "provider 'ACME' is not a known voice provider; use one of: OPENAI, GEMINI, ELEVENLABS, LOCAL"),
        (body(provider="PLAYHT"), "PLAYHT was shut down on 2025-12-31; use OPENAI, GEMINI, ELEVENLABS or LOCAL"),
        (body(provider="OPENAI", speaker="rachel"), "speaker 'rachel' is not a voice of OPENAI"),
        ({"input": body()["input"], "webhookUrl": "ftp://example.com/x"}, "webhookUrl: must be an absolute http://"),
        ({"input": body()["input"], "webhookUrl": "not a url"}, "webhookUrl: must be an absolute http://"),
        ({"input": body()["input"], "webhookUrl": 5}, "webhookUrl: must be a string"),
    ],
)
def test_rule_violations_name_the_field_and_reason(payload: Any, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_narrative(payload)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("fields", "provider", "speaker"),
    [
        ({"speaker": "echo"}, "OPENAI", "echo"),
        ({"speaker": "fable", "provider": "openai"}, "OPENAI", "fable"),
        ({"provider": "LOCAL"}, "LOCAL", "joe"),
        ({"provider": "ELEVENLABS", "speaker": "rachel"}, "ELEVENLABS", "rachel"),
    ],
)
def test_voices_resolve_against_the_catalog(fields: dict[str, str], provider: str, speaker: str) -> None:
    voice = parse_narrative(body(**fields)).input.voice
    assert (voice.provider, voice.speaker) == (provider, speaker)


def test_generative_video_with_express_model_is_accepted() -> None:
    req = parse_narrative({"input": body(add_generative_video=True, video_model="KLINGIMGTOVIDPRO")["input"],
                           "webhookUrl": "https://example.com/hook"})
    assert req.input.video_model == "KLINGIMGTOVIDPRO"
    assert req.webhookUrl == "https://example.com/hook"
