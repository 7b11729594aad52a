"""``music`` and ``captions`` on both create endpoints: the defaults per endpoint, a 400 naming each broken field, and
the options surviving the trip through flow parameters (so a job built from them, e.g. an edit, inherits them)."""

from __future__ import annotations

from typing import Any

import pytest

from core.contract import MovieRequest, NarrativeRequest, parse_movie, parse_narrative
from core.errors import InvalidRequest
from core.styles import CaptionOptions, MusicOptions


def narrative(**fields: Any) -> dict[str, Any]:
    return {"input": {"prompt_list": ["A fox in the snow."], "image_model": "FLUX1.1PRO", **fields}}


def movie(**fields: Any) -> dict[str, Any]:
    return {"input": {"prompt": "A fox in the snow.", "image_model": "FLUX1.1PRO", "video_model": "KLINGIMGTOVIDPRO",
                      "duration": 10, **fields}}


PARSERS = {"narrative": (parse_narrative, narrative), "movie": (parse_movie, movie)}


def test_a_narrative_has_no_music_by_default() -> None:
    assert parse_narrative(narrative()).input.music.enabled is False


def test_a_movie_has_calm_music_by_default() -> None:
    assert parse_movie(movie()).input.music == MusicOptions(mood="calm", volume=0.5)


@pytest.mark.parametrize("endpoint", PARSERS)
def test_captions_are_classic_by_default(endpoint: str) -> None:
    parse, body = PARSERS[endpoint]
    assert parse(body()).input.captions == CaptionOptions()


@pytest.mark.parametrize("endpoint", PARSERS)
def test_the_options_asked_for_are_kept(endpoint: str) -> None:
    parse, body = PARSERS[endpoint]
    spec = parse(body(music={"mood": "dark", "volume": 0.25}, captions={"style": "karaoke", "position": "top"})).input
    assert (spec.music.mood, spec.music.volume, spec.captions.style, spec.captions.position) == (
        "dark", 0.25, "karaoke", "top")


@pytest.mark.parametrize("endpoint", PARSERS)
def test_a_caller_track_is_kept(endpoint: str) -> None:
    parse, body = PARSERS[endpoint]
    assert parse(body(music={"url": "https://cdn.example.com/a.mp3"})).input.music.url == "https://cdn.example.com/a.mp3"


def test_a_movie_can_turn_its_music_off() -> None:
    assert parse_movie(movie(music={"mood": "none"})).input.music.enabled is False


@pytest.mark.parametrize("endpoint", PARSERS)
@pytest.mark.parametrize(("fields", "message"), [
    ({"music": {"mood": "jazzy"}}, "input.music.mood: 'jazzy' is not a known mood"),
    ({"music": {"volume": 1.5}}, "input.music.volume: must be a number from 0.0 to 1.0, not 1.5"),
    ({"music": {"volume": "loud"}}, "input.music.volume: must be a number from 0.0 to 1.0"),
    ({"music": {"url": "ftp://x.example/a.mp3"}}, "input.music.url: must be an absolute http"),
    ({"music": {"mood": "none", "url": "https://x.example/a.mp3"}}, "input.music.mood: mood 'none' turns music off"),
    ({"music": {"volumn": 1}}, "input.music: unknown field 'volumn'"),
    ({"music": "calm"}, "input.music: must be an object"),
    ({"captions": {"style": "comic"}}, "input.captions.style: 'comic' is not a known caption style"),
    ({"captions": {"color": "red"}}, "input.captions.color: 'red' is not a colour"),
    ({"captions": {"highlight_color": "#12345"}}, "input.captions.highlight_color: '#12345' is not a colour"),
    ({"captions": {"position": "left"}}, "input.captions.position: 'left' is not a known caption position"),
    ({"captions": {"font_size": 500}}, "input.captions.font_size: must be from 16 to 120 pixels"),
])
def test_each_broken_field_is_a_400_naming_it(endpoint: str, fields: dict[str, Any], message: str) -> None:
    parse, body = PARSERS[endpoint]
    with pytest.raises(InvalidRequest) as caught:
        parse(body(**fields))
    assert message in str(caught.value)


def test_narrative_options_survive_the_flow_parameters() -> None:
    request = parse_narrative(narrative(music={"mood": "playful", "url": None}, captions={"style": "none"}))
    assert NarrativeRequest.model_validate(request.model_dump(mode="json")) == request


def test_movie_options_survive_the_flow_parameters() -> None:
    request = parse_movie(movie(music={"mood": "uplifting", "volume": 1}, captions={"highlight_color": "#00ff00"}))
    assert MovieRequest.model_validate(request.model_dump(mode="json")) == request


def test_a_music_url_with_an_unpaired_surrogate_is_a_400_naming_it() -> None:
    with pytest.raises(InvalidRequest, match=r"input\.music\.url.*unpaired surrogate"):
        parse_narrative({"input": {"prompt_list": ["A line."], "image_model": "FLUX1.1PRO",
                                   "music": {"mood": "calm", "url": "https://example.com/a\ud800.mp3"}}})
