"""Caption styles for burn-in: ``classic`` (one cue at a time), ``karaoke`` (the word being spoken highlighted) or
``none``, with the caller's position, size and colours (:class:`core.styles.CaptionOptions`).

Karaoke is written as one ASS event per word rather than with ``\\k`` karaoke tags: ``\\k`` leaves every word
already sung in the highlight colour (a fill that grows along the line), while viewers asked for the word being
spoken to stand out. Each event shows the whole cue, with only the current word recoloured, from that word's start
to the next word's start (so the highlight never blinks off in the small gaps between words). Colour does not
change glyph metrics, so the line's layout is identical in every event and only the highlight moves.

The default options give exactly today's classic look (:func:`media.captions.write_scene_ass`), and the SRT/VTT
sidecars are written from the same word timings whatever the style.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pysubs2

from core.styles import CaptionOptions
from media.captions import Word, caption_font, caption_style, cue_spans, word_groups

_ALIGNMENT = {
    "bottom": pysubs2.Alignment.BOTTOM_CENTER,
    "middle": pysubs2.Alignment.MIDDLE_CENTER,
    "top": pysubs2.Alignment.TOP_CENTER,
}
#: ``font_size`` is given for a 1080-pixel short side and scaled to the output frame.
REFERENCE_SHORT_SIDE = 1080


def ass_color(rgb: str, alpha: int = 0) -> pysubs2.Color:
    """``#RRGGBB`` as a pysubs2 colour (ASS stores it as &HAABBGGRR; pysubs2 does that conversion)."""
    return pysubs2.Color(int(rgb[1:3], 16), int(rgb[3:5], 16), int(rgb[5:7], 16), alpha)


def _override(rgb: str) -> str:
    """An inline primary-colour override tag: ``{\\1c&HBBGGRR&}``."""
    return "{\\1c&H" + (rgb[5:7] + rgb[3:5] + rgb[1:3]).upper() + "&}"


def styled_caption_style(width: int, height: int, family: str, options: CaptionOptions) -> pysubs2.SSAStyle:
    """The classic style (:func:`media.captions.caption_style`) with the caller's size, colour and position."""
    style = caption_style(width, height, family)
    if options.font_size is not None:
        size = round(options.font_size * min(width, height) / REFERENCE_SHORT_SIDE)
        style.fontsize = size
        style.outline = round(max(2.0, size * 0.08), 1)
        style.shadow = round(max(1.0, size * 0.04), 1)
    style.primarycolor = ass_color(options.color)
    style.alignment = _ALIGNMENT[options.position]
    return style


def _classic_events(groups: list[list[Word]]) -> list[pysubs2.SSAEvent]:
    return [
        pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000), text=" ".join(w.text for w in group))
        for group, (start, end) in zip(groups, cue_spans(groups), strict=True)
        if end > start
    ]


def _karaoke_events(groups: list[list[Word]], options: CaptionOptions) -> list[pysubs2.SSAEvent]:
    """One event per word: the whole cue, that word in ``highlight_color``, until the next word starts."""
    events = []
    on, off = _override(options.highlight_color), _override(options.color)
    for group, (cue_start, cue_end) in zip(groups, cue_spans(groups), strict=True):
        start = cue_start
        for index, word in enumerate(group):
            end = cue_end if index + 1 == len(group) else min(max(group[index + 1].start, start), cue_end)
            texts = [w.text for w in group]
            texts[index] = f"{on}{word.text}{off}"
            if round(end * 1000) > round(start * 1000):
                events.append(pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000), text=" ".join(texts)))
            start = max(start, end)
    return events


def write_styled_ass(
    words: Sequence[Word], width: int, height: int, out: Path, options: CaptionOptions
) -> Path | None:
    """Write one scene's burn-in captions (scene-relative word times, frame-pixel layout) in ``options``' style;
    ``None`` when the style is ``none`` or there is nothing to show (the scene is rendered without captions)."""
    groups = word_groups(words)
    if not options.burned_in or not groups:
        return None
    subs = pysubs2.SSAFile()
    subs.info.update(
        {"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0", "ScaledBorderAndShadow": "yes"}
    )
    subs.styles["Default"] = styled_caption_style(width, height, caption_font().family, options)
    subs.events = _karaoke_events(groups, options) if options.style == "karaoke" else _classic_events(groups)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    subs.save(str(out), format_="ass")
    return out
