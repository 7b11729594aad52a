"""Fitting a narration into a fixed scene: sped up a little, else shortened between two words, never mid-word."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from media.captions import Word
from media.probe import stream_durations
from media.speech_fit import MAX_TEMPO, apply_fit, plan_fit

WORDS = [Word("one", 0.0, 0.8), Word("two", 1.0, 1.8), Word("three", 2.0, 2.8), Word("four", 3.0, 3.8)]


def test_a_narration_that_fits_is_untouched() -> None:
    fit = plan_fit(WORDS, 4.0, 5.0)
    assert (fit.tempo, fit.cut, fit.words) == (1.0, 4.0, tuple(WORDS))


def test_a_little_too_long_is_sped_up_with_every_word_kept() -> None:
    fit = plan_fit(WORDS, 4.0, 3.5)
    assert abs(fit.tempo - 4.0 / 3.5) < 1e-9 and len(fit.words) == 4
    assert abs(fit.duration - 3.5) < 1e-9 and abs(fit.words[-1].end - 3.8 / fit.tempo) < 1e-9


def test_far_too_long_drops_the_last_words_and_cuts_in_the_pause() -> None:
    fit = plan_fit(WORDS, 4.0, 2.0)  # at 1.25x, 2 s hold 2.5 s of source: "one", "two" and the pause after
    assert fit.tempo == MAX_TEMPO and [w.text for w in fit.words] == ["one", "two"]
    assert 1.8 <= fit.cut <= 2.0, "the cut falls between 'two' and 'three'"
    assert fit.duration <= 2.0 + 1e-9


def _wav(path: Path, seconds: float, rate: int = 22050) -> Path:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x10\x00" * int(seconds * rate))
    path.write_bytes(buffer.getvalue())
    return path


def test_apply_fit_writes_audio_of_the_fitted_length(tmp_path: Path) -> None:
    source = _wav(tmp_path / "voice.wav", 4.0)
    for fit in (plan_fit(WORDS, 4.0, 3.5), plan_fit(WORDS, 4.0, 2.0)):
        out = apply_fit(source, tmp_path / "fitted.wav", fit)
        _, audio_s = stream_durations(out)
        assert abs(audio_s - fit.duration) < 0.03, (audio_s, fit)
