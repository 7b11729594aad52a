"""Caption styles: classic (today's look), karaoke (the spoken word highlighted), none; position, size, colours;
and the bundled font. The karaoke test burns the captions onto a plain picture with ffmpeg and reads the pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysubs2
import pytest
from PIL import Image

from core.styles import CaptionOptions
from media import captions
from media.caption_styles import write_styled_ass
from media.captions import BUNDLED_FONT, Word, caption_font, group_words, write_scene_ass
from media.ffmpeg import file_arg, run

W, H = 640, 360
WORDS = [Word("Alpha", 0.0, 0.5), Word("bravo", 0.6, 1.1), Word("charlie.", 1.2, 1.8), Word("Delta", 2.0, 2.6)]
GOLD = (255, 215, 0)


def styled(tmp_path: Path, **options: object) -> pysubs2.SSAFile:
    path = write_styled_ass(WORDS, W, H, tmp_path / "c.ass", CaptionOptions.model_validate(options))
    assert path is not None
    return pysubs2.load(str(path))


def test_default_options_write_exactly_todays_classic_captions(tmp_path: Path) -> None:
    classic = write_scene_ass(group_words(WORDS), W, H, tmp_path / "classic.ass")
    styled_path = write_styled_ass(WORDS, W, H, tmp_path / "styled.ass", CaptionOptions())
    assert styled_path is not None
    assert styled_path.read_text() == classic.read_text()


def test_style_none_writes_no_captions(tmp_path: Path) -> None:
    assert write_styled_ass(WORDS, W, H, tmp_path / "c.ass", CaptionOptions(style="none")) is None


def test_a_scene_without_words_gets_no_captions(tmp_path: Path) -> None:
    assert write_styled_ass([], W, H, tmp_path / "c.ass", CaptionOptions(style="karaoke")) is None


@pytest.mark.parametrize(("position", "alignment"), [
    ("bottom", pysubs2.Alignment.BOTTOM_CENTER), ("middle", pysubs2.Alignment.MIDDLE_CENTER),
    ("top", pysubs2.Alignment.TOP_CENTER),
])
def test_position_sets_the_alignment(tmp_path: Path, position: str, alignment: pysubs2.Alignment) -> None:
    assert styled(tmp_path, position=position).styles["Default"].alignment == alignment


@pytest.mark.parametrize(("width", "height", "pixels"), [(1280, 720, 40), (720, 1280, 40), (1920, 1080, 60)])
def test_font_size_is_scaled_from_a_1080_pixel_short_side(tmp_path: Path, width: int, height: int,
                                                          pixels: int) -> None:
    path = write_styled_ass(WORDS, width, height, tmp_path / "c.ass", CaptionOptions(font_size=60))
    assert path is not None
    assert pysubs2.load(str(path)).styles["Default"].fontsize == pixels


def test_color_sets_the_text_colour(tmp_path: Path) -> None:
    assert styled(tmp_path, color="#10A0F0").styles["Default"].primarycolor == pysubs2.Color(16, 160, 240, 0)


def test_karaoke_writes_one_event_per_word(tmp_path: Path) -> None:
    assert len(styled(tmp_path, style="karaoke").events) == len(WORDS)


def test_karaoke_highlights_exactly_the_current_word(tmp_path: Path) -> None:
    events = styled(tmp_path, style="karaoke", highlight_color="#112233").events
    assert [event.text.split("{\\1c&H332211&}")[1].split("{")[0] for event in events] == [
        "Alpha", "bravo", "charlie.", "Delta"]


def test_karaoke_holds_each_highlight_until_the_next_word(tmp_path: Path) -> None:
    events = styled(tmp_path, style="karaoke").events
    assert [(event.start, event.end) for event in events] == [(0, 600), (600, 1200), (1200, 1800), (2000, 2600)]


def test_karaoke_shows_the_whole_cue_in_every_event(tmp_path: Path) -> None:
    events = styled(tmp_path, style="karaoke").events
    assert [event.plaintext for event in events] == ["Alpha bravo charlie."] * 3 + ["Delta"]


def burn(ass: Path, at: float, out: Path) -> np.ndarray:
    """One frame at ``at`` seconds of the captions burned onto a plain dark-blue picture with the bundled font."""
    graph = f"subtitles=filename='{file_arg(ass)}':fontsdir='{file_arg(caption_font().directory)}'"
    run(["-f", "lavfi", "-i", f"color=c=0x203040:s={W}x{H}:r=25:d=3", "-vf", graph, "-ss", f"{at:.2f}",
         "-frames:v", "1", file_arg(out)], what="burn captions")
    with Image.open(out) as frame:
        return np.asarray(frame.convert("RGB")).astype(int)


def highlighted(frame: np.ndarray) -> np.ndarray:
    """Pixels close to the highlight colour (gold), as (rows, columns)."""
    return np.argwhere((np.abs(frame - np.array(GOLD)) < 40).all(axis=-1))


@pytest.fixture(scope="module")
def karaoke_frames(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    """Frames inside word A ("Alpha", 0.0-0.5 s) and inside its neighbour B ("bravo", 0.6-1.1 s)."""
    folder = tmp_path_factory.mktemp("karaoke")
    ass = write_styled_ass(WORDS, W, H, folder / "k.ass", CaptionOptions(style="karaoke", highlight_color="#FFD700"))
    assert ass is not None
    return burn(ass, 0.3, folder / "a.png"), burn(ass, 0.9, folder / "b.png")


def test_the_highlight_colour_is_on_the_caption_during_word_a(karaoke_frames: tuple[np.ndarray, ...]) -> None:
    assert len(highlighted(karaoke_frames[0])) > 50


def test_the_highlight_colour_is_on_the_caption_during_word_b(karaoke_frames: tuple[np.ndarray, ...]) -> None:
    assert len(highlighted(karaoke_frames[1])) > 50


def test_the_highlight_sits_in_the_bottom_caption_area(karaoke_frames: tuple[np.ndarray, ...]) -> None:
    assert highlighted(karaoke_frames[0])[:, 0].min() > H * 0.7


def test_the_highlight_moves_right_from_word_a_to_word_b(karaoke_frames: tuple[np.ndarray, ...]) -> None:
    a, b = (highlighted(frame)[:, 1] for frame in karaoke_frames)
    assert b.min() > a.max()


def test_the_rest_of_the_line_stays_white(karaoke_frames: tuple[np.ndarray, ...]) -> None:
    white = (karaoke_frames[0] > 230).all(axis=-1)
    assert np.argwhere(white)[:, 1].max() > highlighted(karaoke_frames[0])[:, 1].max() + 50


def test_classic_captions_have_no_highlight(tmp_path: Path) -> None:
    ass = write_styled_ass(WORDS, W, H, tmp_path / "c.ass", CaptionOptions())
    assert ass is not None
    assert len(highlighted(burn(ass, 0.3, tmp_path / "c.png"))) == 0


def test_the_bundled_font_is_what_captions_use() -> None:
    assert caption_font().path.read_bytes() == BUNDLED_FONT.read_bytes()


def test_the_bundled_font_is_dejavu_sans() -> None:
    assert caption_font().family == "DejaVu Sans"


def test_the_bundled_font_ships_with_its_licence() -> None:
    assert "Bitstream Vera" in (BUNDLED_FONT.parent / "LICENSE-DejaVu.txt").read_text()


def test_the_bundled_font_does_not_depend_on_system_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(captions, "_FONT_DIRS", ())
    monkeypatch.setattr(captions, "_cache_dir", lambda: tmp_path / "fonts")
    captions._installed_font.cache_clear()
    try:
        assert caption_font().family == "DejaVu Sans"
    finally:
        captions._installed_font.cache_clear()
