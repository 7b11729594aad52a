"""Captions: TTS word timings grouped into cues, written as ASS for burn-in and as SRT/VTT sidecars.

Cues are short (a few words, one or two lines) because viewers read captions while watching; they break at
sentence ends so a cue never straddles two sentences. Burned-in captions use ASS because libass is what ffmpeg's
``subtitles`` filter renders, and ASS lets us pin the layout in frame pixels (PlayResX/Y = frame size) so the same
numbers work for 16:9, 9:16 and 1:1. The font ships with reelflow (``media/fonts``); ``caption_font`` copies it once
per machine into a one-font folder, and the ``subtitles`` filter is pointed at that folder so rendering never
depends on the host's fonts or fontconfig setup.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pysubs2
from PIL import ImageFont

#: The font shipped with reelflow (DejaVu Sans Bold, Bitstream Vera licence in ``fonts/LICENSE-DejaVu.txt``), so
#: captions look the same on every machine; the system folders below are only a fallback for a broken install.
BUNDLED_FONT = Path(__file__).parent / "fonts" / "DejaVuSans-Bold.ttf"
#: Where DejaVu usually lives (Debian/Ubuntu first); the first match wins.
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts")
#: Bold reads better over busy pictures; libass fakes bold from the regular face when that is all there is.
_FONT_FILES = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")
#: A word ending in one of these ends its sentence, and so its cue (closing quotes/brackets are looked through).
_SENTENCE_END = re.compile(r"[.!?…;:]['\"’”)\]]*$")


@dataclass(frozen=True)
class Word:
    """One spoken word and when it is heard, in seconds from the start of its narration."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Cue:
    """One caption on screen from ``start`` to ``end`` (seconds)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class CaptionFont:
    """The caption font file, alone in its folder (libass loads every file in ``fontsdir``), and its family name."""

    path: Path
    family: str

    @property
    def directory(self) -> Path:
        return self.path.parent


def _cache_dir() -> Path:
    """Per-user, so a shared /tmp never hands us a folder we cannot write."""
    return Path(tempfile.gettempdir()) / f"reelflow-fonts-{os.getuid() if hasattr(os, 'getuid') else 0}"


def _install(data: bytes, name: str) -> Path:
    """Write a font into the cache folder atomically (parallel renders may race to do it)."""
    folder = _cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists() or target.stat().st_size != len(data):
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    return target


@functools.cache
def _installed_font() -> CaptionFont:
    if BUNDLED_FONT.is_file():
        target = _install(BUNDLED_FONT.read_bytes(), BUNDLED_FONT.name)
        return CaptionFont(path=target, family=ImageFont.truetype(str(target)).getname()[0] or "sans-serif")
    for folder in _FONT_DIRS:
        for name in _FONT_FILES:
            found = next(iter(sorted(Path(folder).rglob(name))), None) if Path(folder).is_dir() else None
            if found is not None:
                target = _install(found.read_bytes(), name)
                return CaptionFont(path=target, family=ImageFont.truetype(str(target)).getname()[0] or "sans-serif")
    fallback = ImageFont.load_default(24)
    if not isinstance(fallback, ImageFont.FreeTypeFont):  # Pillow without FreeType: leave it to libass's fallback
        return CaptionFont(path=_cache_dir() / "none.ttf", family="sans-serif")
    target = _install(fallback.font_bytes, "reelflow-default.ttf")
    return CaptionFont(path=target, family=fallback.getname()[0] or "sans-serif")


def caption_font() -> CaptionFont:
    """The bundled DejaVu Sans Bold (else an installed DejaVu, else Pillow's embedded default font), copied into a
    one-font folder. Found once per process, re-installed if the temp folder was cleaned under a long-running worker."""
    font = _installed_font()
    if not font.path.is_file():
        _installed_font.cache_clear()
        font = _installed_font()
    return font


def _clean(text: str) -> str:
    """Caption text safe for ASS: braces open override blocks and backslashes start escapes there."""
    return " ".join(text.replace("{", "(").replace("}", ")").replace("\\", "/").split())


def word_groups(words: Sequence[Word], max_words: int = 7, max_chars: int = 42) -> list[list[Word]]:
    """Split timed words into the groups that become cues: at most ``max_words`` words and ``max_chars``
    characters each, and a group also ends after a word that ends a sentence. Word texts come back cleaned for
    ASS; words with no text left are dropped."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        text = _clean(word.text)
        if not text:
            continue
        word = replace(word, text=text)
        chars = len(" ".join(w.text for w in current)) + 1 + len(text)
        if current and (len(current) >= max_words or chars > max_chars):
            groups.append(current)
            current = []
        current.append(word)
        if _SENTENCE_END.search(text):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def cue_spans(groups: Sequence[Sequence[Word]]) -> list[tuple[float, float]]:
    """(start, end) of each group's cue: first word's start to last word's end, clipped so it never overlaps the
    next cue (TTS timings sometimes do)."""
    spans = []
    for index, group in enumerate(groups):
        start = group[0].start
        end = max(group[-1].end, start)
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0].start)
        spans.append((start, max(end, start)))
    return spans


def group_words(words: Sequence[Word], max_words: int = 7, max_chars: int = 42) -> list[Cue]:
    """Group timed words into cues (see :func:`word_groups`), each on screen from its first word's start to its
    last word's end, never overlapping the next cue."""
    groups = word_groups(words, max_words, max_chars)
    return [Cue(start=start, end=end, text=" ".join(w.text for w in group))
            for group, (start, end) in zip(groups, cue_spans(groups), strict=True)]


def offset_cues(cues: Iterable[Cue], seconds: float) -> list[Cue]:
    """Move scene-relative cues to whole-video time (add the scene's start)."""
    return [replace(cue, start=cue.start + seconds, end=cue.end + seconds) for cue in cues]


def caption_style(width: int, height: int, family: str) -> pysubs2.SSAStyle:
    """Bottom-centred white bold text with a dark outline and soft shadow, sized from the frame.

    ``height / 18`` is the classic size for 16:9 (40 px at 720p); the ``width / 13.5`` cap keeps 9:16 to about
    20 characters a line (libass wraps the rest). Vertical video keeps clear of the platforms' bottom UI.
    """
    size = round(min(height / 18, width / 13.5))
    return pysubs2.SSAStyle(
        fontname=family,
        fontsize=size,
        primarycolor=pysubs2.Color(255, 255, 255, 0),
        outlinecolor=pysubs2.Color(0, 0, 0, 32),
        backcolor=pysubs2.Color(0, 0, 0, 128),
        bold=True,
        borderstyle=1,
        outline=round(max(2.0, size * 0.08), 1),
        shadow=round(max(1.0, size * 0.04), 1),
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=round(width * 0.06),
        marginr=round(width * 0.06),
        marginv=round(height * (0.16 if height > width else 0.07)),
    )


def _events(cues: Iterable[Cue]) -> list[pysubs2.SSAEvent]:
    return [
        pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000), text=_clean(cue.text))
        for cue in cues
        if cue.end > cue.start
    ]


def write_scene_ass(cues: Sequence[Cue], width: int, height: int, out: Path) -> Path:
    """Write an ASS file laid out in frame pixels for burning one scene's cues (scene-relative times)."""
    subs = pysubs2.SSAFile()
    subs.info.update(
        {"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0", "ScaledBorderAndShadow": "yes"}
    )
    subs.styles["Default"] = caption_style(width, height, caption_font().family)
    subs.events = _events(cues)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    subs.save(str(out), format_="ass")
    return out


def write_sidecars(cues: Sequence[Cue], srt: Path, vtt: Path) -> None:
    """Write SRT and WebVTT files for players (cues already in whole-video time)."""
    subs = pysubs2.SSAFile()
    subs.events = _events(cues)
    for path, fmt in ((Path(srt), "srt"), (Path(vtt), "vtt")):
        path.parent.mkdir(parents=True, exist_ok=True)
        subs.save(str(path), format_=fmt)
