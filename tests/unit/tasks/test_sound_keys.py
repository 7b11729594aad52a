"""Cache keys of the sound and style work: what makes a new asset, and what leaves yesterday's caches valid."""

from __future__ import annotations

import pytest

from core.results import SceneSpec, TimedWord, VoiceAsset
from core.styles import CaptionOptions, MusicOptions
from tasks.assembly import assembly_key
from tasks.music import MusicBedAsset, music_key, music_seed
from tasks.video import RenderedScene, scene_key

SCENES = [RenderedScene(index=1, clip="cache/aa/clip.mp4", duration=3.0)]
VOICE = VoiceAsset(wav="cache/bb/voice.wav", words=[TimedWord(text="Hello", start=0.1, end=0.5)], duration=0.6,
                   rendered_by="local")
SCENE = SceneSpec(index=1, text="Hello", image_prompt="a pier", seed=1)
CALM = MusicOptions(mood="calm")


def scene(captions: CaptionOptions | None) -> str:
    return scene_key(SCENE, "cache/cc/image.png", VOICE, None, 1280, 720, 30, captions=captions)


def test_without_music_the_assembly_key_is_the_one_from_before_music() -> None:
    assert assembly_key(SCENES, [VOICE], None) == assembly_key(SCENES, [VOICE])


def test_a_bed_makes_another_assembly() -> None:
    assert assembly_key(SCENES, [VOICE], MusicBedAsset(key="cache/dd/bed.wav", volume=0.5)) != assembly_key(
        SCENES, [VOICE])


def test_the_bed_volume_is_part_of_the_assembly_key() -> None:
    quiet, loud = (MusicBedAsset(key="cache/dd/bed.wav", volume=v) for v in (0.3, 0.8))
    assert assembly_key(SCENES, [VOICE], quiet) != assembly_key(SCENES, [VOICE], loud)


def test_default_captions_keep_the_scene_key_of_before_styles() -> None:
    assert scene(CaptionOptions()) == scene(None)


@pytest.mark.parametrize("captions", [CaptionOptions(style="karaoke"), CaptionOptions(style="none"),
                                      CaptionOptions(position="top"), CaptionOptions(highlight_color="#00FF00")])
def test_a_non_default_caption_style_makes_another_scene(captions: CaptionOptions) -> None:
    assert scene(captions) != scene(None)


@pytest.mark.parametrize(("a", "b"), [
    ((CALM, 10.0, 1), (MusicOptions(mood="dark"), 10.0, 1)),
    ((CALM, 10.0, 1), (CALM, 10.0, 2)),
    ((CALM, 10.0, 1), (CALM, 10.5, 1)),
    ((CALM, 10.0, 1), (MusicOptions(url="https://cdn.example.com/a.mp3"), 10.0, 1)),
])
def test_mood_seed_length_and_source_each_make_another_bed(a: tuple[MusicOptions, float, int],
                                                          b: tuple[MusicOptions, float, int]) -> None:
    assert music_key(*a) != music_key(*b)


def test_the_volume_is_not_part_of_the_bed() -> None:
    assert music_key(MusicOptions(volume=0.2), 10.0, 1) == music_key(MusicOptions(volume=0.9), 10.0, 1)


def test_a_caller_track_does_not_depend_on_the_seed() -> None:
    track = MusicOptions(url="https://cdn.example.com/a.mp3")
    assert music_key(track, 10.0, 1) == music_key(track, 10.0, 2)


def test_a_vendor_composer_never_shares_a_bed_with_the_offline_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import get_settings

    offline = music_key(CALM, 10.0, 1)
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test")
    get_settings.cache_clear()
    assert music_key(CALM, 10.0, 1) != offline


def test_the_same_words_give_the_same_seed() -> None:
    assert music_seed("A pier at night.") == music_seed("A pier at night.")


def test_other_words_give_another_seed() -> None:
    assert music_seed("A pier at night.") != music_seed("A pier at dawn.")
