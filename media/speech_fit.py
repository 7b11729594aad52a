"""Making a narration fit a scene whose length is fixed in advance (movies), without cutting a word in half.

The script writer plans each line at a calm pace, so this is a safety net for a voice slower than planned: first the
narration is sped up (``atempo``, pitch kept) by at most :data:`MAX_TEMPO`, which listeners barely notice; if even
that is not enough, the words that still do not fit are dropped, cutting in the pause after the last word that
does. Word timings are carried along, so captions stay on the words actually heard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import ffmpeg  # type: ignore[import-untyped,unused-ignore]

from media.captions import Word
from media.ffmpeg import atomic_output, file_arg, run

#: The most we speed a voice up; beyond ~1.25x speech starts to sound hurried.
MAX_TEMPO = 1.25


@dataclass(frozen=True)
class SpeechFit:
    """How to fit a narration: play it ``tempo`` times faster, keeping the source up to ``cut`` seconds."""

    tempo: float
    cut: float
    words: tuple[Word, ...]

    @property
    def duration(self) -> float:
        """Seconds of the fitted narration."""
        return self.cut / self.tempo


def plan_fit(words: Sequence[Word], duration: float, max_seconds: float) -> SpeechFit:
    """The gentlest fit of a narration of ``duration`` seconds into ``max_seconds``; words in fitted time."""
    if duration <= max_seconds:
        return SpeechFit(1.0, duration, tuple(words))
    if max_seconds <= 0:
        return SpeechFit(1.0, 0.0, ())
    tempo = duration / max_seconds
    cut = duration
    if tempo > MAX_TEMPO:
        tempo, limit = MAX_TEMPO, max_seconds * MAX_TEMPO
        kept = [w for w in words if w.end <= limit]
        following = [w.start for w in words[len(kept):]]
        cut = max(kept[-1].end if kept else 0.0, min([limit, *following[:1]]))
        words = kept
    fitted = tuple(replace(w, start=w.start / tempo, end=w.end / tempo) for w in words)
    return SpeechFit(tempo, cut, fitted)


def apply_fit(source: Path, out: Path, fit: SpeechFit) -> Path:
    """Write ``source`` (a WAV) as a 16-bit WAV cut at ``fit.cut`` and played ``fit.tempo`` times faster."""
    stream = ffmpeg.input(file_arg(source)).audio.filter("atrim", end=f"{fit.cut:.6f}")
    if fit.tempo != 1.0:
        stream = stream.filter("atempo", f"{fit.tempo:.6f}")
    with atomic_output(out) as tmp:
        run(stream.output(file_arg(tmp), acodec="pcm_s16le"), what=f"fit narration {Path(source).name}")
    return Path(out)
