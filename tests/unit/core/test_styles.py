"""The music and captions options: defaults per endpoint, and a readable message naming the field for every rule.

The options are validated here inside a small body model and formatted by ``core.rules.error_message``, exactly
as they will be once they are fields of the request models.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from core.rules import error_message
from core.styles import (
    DEFAULT_CAPTIONS,
    MAX_URL_CHARS,
    MOVIE_MUSIC,
    NARRATIVE_MUSIC,
    CaptionOptions,
    MusicOptions,
)


class Body(BaseModel):
    music: MusicOptions = NARRATIVE_MUSIC
    captions: CaptionOptions = DEFAULT_CAPTIONS


def parse(**fields: Any) -> Body:
    return Body.model_validate(fields)


def message(**fields: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        parse(**fields)
    return error_message(caught.value)


def test_narratives_have_no_music_by_default() -> None:
    assert parse().music.enabled is False


def test_movies_default_to_calm_music() -> None:
    assert MOVIE_MUSIC.mood == "calm"


def test_movie_music_is_on_by_default() -> None:
    assert MOVIE_MUSIC.enabled is True


def test_a_music_object_without_a_mood_means_calm_at_half_volume() -> None:
    assert parse(music={}).music == MusicOptions(mood="calm", volume=0.5, url=None)


def test_captions_default_to_classic_at_the_bottom_in_white() -> None:
    assert parse().captions == CaptionOptions(style="classic", position="bottom", font_size=None, color="#FFFFFF",
                                              highlight_color="#FFD700")


def test_a_full_music_object_is_kept() -> None:
    music = parse(music={"mood": "dark", "volume": 0.2, "url": "https://cdn.example.com/a.mp3"}).music
    assert music == MusicOptions(mood="dark", volume=0.2, url="https://cdn.example.com/a.mp3")


def test_an_integer_volume_is_a_number() -> None:
    assert parse(music={"volume": 1}).music.volume == 1.0


def test_volume_zero_turns_music_off() -> None:
    assert parse(music={"volume": 0}).music.enabled is False


def test_unknown_mood_names_the_field_and_the_moods() -> None:
    assert message(music={"mood": "loud"}) == (
        "music.mood: 'loud' is not a known mood; use one of: calm, uplifting, dramatic, playful, dark, none"
    )


def test_a_mood_that_is_not_a_string() -> None:
    assert message(music={"mood": 3}).startswith("music.mood: must be a string, one of: calm,")


@pytest.mark.parametrize("volume", [1.5, -0.1])
def test_volume_out_of_range(volume: float) -> None:
    assert message(music={"volume": volume}) == f"music.volume: must be a number from 0.0 to 1.0, not {volume:g}"


@pytest.mark.parametrize("volume", ["0.5", True, None])
def test_volume_that_is_not_a_number(volume: object) -> None:
    assert message(music={"volume": volume}) == (
        "music.volume: must be a number from 0.0 to 1.0 (a JSON number, not a string or a boolean)"
    )


def test_volume_nan() -> None:
    assert message(music={"volume": float("nan")}) == "music.volume: must be a number from 0.0 to 1.0, not nan"


@pytest.mark.parametrize(("url", "why"), [
    ("ftp://example.com/a.mp3", "must be an absolute http:// or https:// URL"),
    ("/music/a.mp3", "must be an absolute http:// or https:// URL"),
    ("https:///a.mp3", "must be an absolute http:// or https:// URL"),
    ("https://example.com:0/a.mp3", "has port 0; the port, if any, must be a number from 1 to 65535"),
    ("https://example.com:70000/a.mp3", "is not a valid URL; the port, if any, must be a number from 1 to 65535"),
    ("https://example.com:http/a.mp3", "is not a valid URL; the port, if any, must be a number from 1 to 65535"),
    ("https://user:secret@example.com/a.mp3", "must not carry credentials (user:password@)"),
    ("https://example.com/a b.mp3", "must not contain spaces or control characters"),
    ("https://example.com/a\n.mp3", "must not contain spaces or control characters"),
    ("http://[::1/a.mp3", "is not a valid URL; the port, if any, must be a number from 1 to 65535"),
])
def test_music_url_rules(url: str, why: str) -> None:
    assert message(music={"url": url}) == f"music.url: {why}"


def test_a_music_url_that_is_not_a_string() -> None:
    assert message(music={"url": 42}) == "music.url: must be a string holding an http:// or https:// URL"


def test_an_overlong_music_url() -> None:
    url = "https://example.com/" + "a" * MAX_URL_CHARS
    assert message(music={"url": url}) == f"music.url: has {len(url)} characters; at most 2048 are allowed"


@pytest.mark.parametrize("url", ["https://example.com:1/a.mp3", "http://example.com:65535/a.mp3",
                                 "http://[2001:db8::1]:8080/a.wav"])
def test_music_url_ports_at_the_edges_and_ipv6_hosts_are_accepted(url: str) -> None:
    assert parse(music={"url": url}).music.url == url


def test_a_url_with_mood_none_is_contradictory() -> None:
    assert message(music={"mood": "none", "url": "https://example.com/a.mp3"}) == (
        "music.mood: mood 'none' turns music off, so a url makes no sense with it; leave out the url, or the mood"
    )


def test_an_unknown_music_field_is_named() -> None:
    assert message(music={"volumn": 0.3}) == (
        "music: unknown field 'volumn' in music; its fields are mood, volume, url"
    )


def test_music_that_is_not_an_object() -> None:
    assert message(music="calm") == "music: must be an object with the fields mood, volume, url"


def test_unknown_caption_style() -> None:
    assert message(captions={"style": "neon"}) == (
        "captions.style: 'neon' is not a known caption style; use one of: classic, karaoke, none"
    )


def test_unknown_caption_position() -> None:
    assert message(captions={"position": "left"}) == (
        "captions.position: 'left' is not a known caption position; use one of: bottom, middle, top"
    )


@pytest.mark.parametrize("size", [15, 121])
def test_font_size_out_of_range(size: int) -> None:
    assert message(captions={"font_size": size}) == f"captions.font_size: must be from 16 to 120 pixels, not {size}"


@pytest.mark.parametrize("size", ["40", True, 40.5])
def test_font_size_that_is_not_a_whole_number(size: object) -> None:
    assert message(captions={"font_size": size}) == (
        "captions.font_size: must be a whole number of pixels from 16 to 120"
    )


def test_a_whole_float_font_size_is_accepted() -> None:
    assert parse(captions={"font_size": 48.0}).captions.font_size == 48


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("color", "red", "'red'"), ("color", "#FFF", "'#FFF'"), ("highlight_color", "#GG0000", "'#GG0000'"),
    ("highlight_color", 16777215, "this value"),
])
def test_bad_colours(field: str, value: object, shown: str) -> None:
    assert message(captions={field: value}) == f"captions.{field}: {shown} is not a colour; use #RRGGBB, e.g. #FFD700"


def test_colours_are_normalised_to_upper_case() -> None:
    assert parse(captions={"highlight_color": "#ffaa00"}).captions.highlight_color == "#FFAA00"


def test_an_unknown_captions_field_is_named() -> None:
    assert message(captions={"colour": "#FFFFFF"}) == (
        "captions: unknown field 'colour' in captions; its fields are style, position, font_size, color, "
        "highlight_color"
    )


def test_style_none_burns_nothing_in() -> None:
    assert parse(captions={"style": "none"}).captions.burned_in is False


def test_every_broken_rule_is_reported_at_once() -> None:
    text = message(music={"mood": "x", "volume": 2}, captions={"style": "y"})
    assert "music.mood: 'x' is not a known mood" in text
    assert "music.volume: must be a number from 0.0 to 1.0, not 2" in text
    assert "captions.style: 'y' is not a known caption style" in text
