"""Caption grouping and the ASS / SRT / VTT files written from it."""

from __future__ import annotations

from pathlib import Path

import pysubs2
import pytest

from media import captions
from media.captions import Cue, Word, caption_font, group_words, offset_cues, write_scene_ass, write_sidecars


def timed(text: str, step: float = 0.4) -> list[Word]:
    return [Word(word, i * step, i * step + step * 0.8) for i, word in enumerate(text.split())]


def test_breaks_after_max_words() -> None:
    cues = group_words(timed("one two three four five six seven eight nine ten"))
    assert [cue.text for cue in cues] == ["one two three four five six seven", "eight nine ten"]


def test_breaks_before_max_chars() -> None:
    cues = group_words(timed("extraordinarily complicated circumstances necessitate immediate reconsideration"))
    assert all(len(cue.text) <= 42 for cue in cues)
    assert " ".join(cue.text for cue in cues) == (
        "extraordinarily complicated circumstances necessitate immediate reconsideration"
    )


def test_breaks_at_sentence_punctuation() -> None:
    cues = group_words(timed('It rained. "Really?" she asked! Then: silence'))
    assert [cue.text for cue in cues] == ["It rained.", '"Really?"', "she asked!", "Then:", "silence"]


def test_cue_spans_its_words_and_never_overlaps_the_next() -> None:
    words = [Word("Hello", 0.0, 0.5), Word("world.", 0.5, 1.3), Word("Next", 1.1, 1.6), Word("one", 1.6, 2.0)]
    cues = group_words(words)
    assert cues == [Cue(0.0, 1.1, "Hello world."), Cue(1.1, 2.0, "Next one")]
    for current, following in zip(cues, cues[1:], strict=False):
        assert current.end <= following.start


def test_skips_empty_words_and_neutralises_ass_syntax() -> None:
    cues = group_words([Word(" ", 0, 0.1), Word("{\\b1}bold", 0.1, 0.5), Word("", 0.5, 0.6)])
    assert cues == [Cue(0.1, 0.5, "(/b1)bold")]


def test_offset_cues_moves_to_video_time() -> None:
    assert offset_cues([Cue(0.5, 1.0, "a")], 2.0) == [Cue(2.5, 3.0, "a")]


@pytest.mark.parametrize(("width", "height", "size"), [(1280, 720, 40), (720, 1280, 53), (720, 720, 40)])
def test_scene_ass_is_laid_out_in_frame_pixels(tmp_path: Path, width: int, height: int, size: int) -> None:
    cues = [Cue(0.2, 1.4, "A caption that may need wrapping on a narrow frame")]
    path = write_scene_ass(cues, width, height, tmp_path / "scene.ass")
    subs = pysubs2.load(str(path))
    assert subs.info["PlayResX"] == str(width) and subs.info["PlayResY"] == str(height)
    style = subs.styles["Default"]
    assert style.fontsize == size
    assert style.alignment == pysubs2.Alignment.BOTTOM_CENTER
    assert style.fontname == caption_font().family
    assert style.marginv > (height * 0.1 if height > width else 0)
    assert [(event.start, event.end) for event in subs.events] == [(200, 1400)]


def test_caption_font_folder_holds_a_font() -> None:
    font = caption_font()
    assert font.family
    assert list(font.directory.glob("*.ttf"))


def test_sidecars_round_trip(tmp_path: Path) -> None:
    cues = [Cue(0.0, 1.25, "First line."), Cue(3.5, 4.75, "Second one")]
    write_sidecars(cues, tmp_path / "a.srt", tmp_path / "a.vtt")
    assert (tmp_path / "a.vtt").read_text().startswith("WEBVTT")
    for name in ("a.srt", "a.vtt"):
        subs = pysubs2.load(str(tmp_path / name))
        assert [(e.start, e.end, e.plaintext) for e in subs.events] == [
            (0, 1250, "First line."),
            (3500, 4750, "Second one"),
        ]


def test_falls_back_to_pillows_embedded_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(captions, "BUNDLED_FONT", tmp_path / "missing.ttf")  # a broken install
    monkeypatch.setattr(captions, "_FONT_DIRS", ())
    monkeypatch.setattr(captions, "_cache_dir", lambda: tmp_path / "fonts")
    captions._installed_font.cache_clear()
    try:
        font = caption_font()
        assert font.directory == tmp_path / "fonts"
        assert [path.name for path in font.directory.iterdir()] == ["reelflow-default.ttf"]
        assert font.family  # whatever Pillow embeds (Aileron today); the ASS style must name exactly this family
        ass = write_scene_ass([Cue(0, 1, "x")], 320, 180, tmp_path / "x.ass")
        assert pysubs2.load(str(ass)).styles["Default"].fontname == font.family
    finally:
        captions._installed_font.cache_clear()


def test_caption_font_survives_a_cleaned_temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(captions, "_cache_dir", lambda: tmp_path / "fonts")
    captions._installed_font.cache_clear()
    try:
        font = caption_font()
        assert font.directory == tmp_path / "fonts"
        font.path.unlink()
        assert caption_font().path.is_file()
    finally:
        captions._installed_font.cache_clear()
