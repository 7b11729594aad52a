"""The offline music generator: deterministic, the right format and length, musical, and free of clicks."""

from __future__ import annotations

import functools
import io
import wave

import numpy as np
import pytest

from core.errors import RenderError
from media import synth
from media.music import MOODS, STYLES, Mood, render_music, render_track

RATE = 48_000
#: The pitched instruments (everything but the noise drums).
TONAL = frozenset({"pad", "bass", "pluck", "bell"})


@functools.cache
def track_of(mood: Mood, seconds: float = 20.0, voices: frozenset[str] | None = None) -> np.ndarray:
    """One render per (mood, length, stem) for the whole module: the measurements below only read it."""
    return render_track(mood, 5, seconds, voices=voices)


def samples(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as track:
        return np.frombuffer(track.readframes(track.getnframes()), "<i2").reshape(-1, 2) / 32768.0


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


@pytest.mark.parametrize("mood", MOODS)
def test_same_mood_seed_and_length_give_the_same_bytes(mood: Mood) -> None:
    assert render_music(mood, 11, 6.0) == render_music(mood, 11, 6.0)


@pytest.mark.parametrize("mood", MOODS)
def test_another_seed_gives_other_music(mood: Mood) -> None:
    assert render_music(mood, 11, 6.0) != render_music(mood, 12, 6.0)


def test_the_wav_is_48_khz_stereo_16_bit() -> None:
    with wave.open(io.BytesIO(render_music("calm", 1, 2.0))) as track:
        assert (track.getframerate(), track.getnchannels(), track.getsampwidth()) == (48_000, 2, 2)


def test_the_length_is_exact_to_the_sample() -> None:
    assert samples(render_music("playful", 1, 7.3)).shape[0] == round(7.3 * RATE)


@pytest.mark.parametrize("mood", MOODS)
def test_every_mood_is_audible(mood: Mood) -> None:
    assert db(track_of(mood)) > -25.0


@pytest.mark.parametrize("mood", MOODS)
def test_every_mood_peaks_at_minus_3_dbfs(mood: Mood) -> None:
    peak = float(np.abs(track_of(mood)).max())
    assert 20 * np.log10(peak) == pytest.approx(-3.0, abs=0.05)


@pytest.mark.parametrize("mood", MOODS)
def test_the_stereo_field_is_wide_but_not_out_of_phase(mood: Mood) -> None:
    track = track_of(mood)
    correlation = float(np.corrcoef(track[0], track[1])[0, 1])
    assert 0.5 < correlation < 0.99


@pytest.mark.parametrize("mood", MOODS)
def test_pitched_parts_have_no_clicks_at_note_boundaries(mood: Mood) -> None:
    """A click is a jump of a sizeable part of full scale between two samples. The pitched parts (pad, bass, lead),
    at -3 dBFS peak, may only move as fast as their highest partials (~1 kHz carries: 2*pi*1000/48000*0.7 = 0.09)."""
    track = track_of(mood, 30.0, TONAL)
    assert float(np.abs(np.diff(track, axis=1)).max()) < 0.1


@pytest.mark.parametrize("name", ["bass", "pluck", "bell"])
def test_every_pitched_note_starts_and_ends_at_silence(name: str) -> None:
    note = getattr(synth, name)(57.0, 9000)
    assert (abs(note[0]), abs(note[-1])) == (0.0, 0.0)


def test_a_pad_chord_starts_and_ends_at_silence() -> None:
    left, right = synth.pad((60.0, 64.0, 67.0), 48_000, attack=0.3, release=0.5)
    assert (abs(left[0]), abs(left[-1]), abs(right[0]), abs(right[-1])) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("name", ["kick", "snare", "hat"])
def test_every_drum_hit_starts_and_ends_at_silence(name: str) -> None:
    hit = synth.kick(4800) if name == "kick" else getattr(synth, name)(4800, np.random.default_rng(1))
    assert (abs(hit[0]), abs(hit[-1])) == (0.0, 0.0)


def test_the_end_of_the_track_fades_to_silence() -> None:
    assert float(np.abs(samples(render_music("uplifting", 2, 9.0))[-1]).max()) == 0.0


def bar_periodicity(track: np.ndarray, bpm: float) -> tuple[float, float]:
    """Autocorrelation of the onset strength at the bar period (±5 % for the seeded tempo), and the same for the
    onsets shuffled in time: a steady rhythm scores far above its shuffle. Onset strength is spectral flux (the
    summed rises of log magnitude per 10 ms frame), the usual detector in beat tracking: it hears a soft kick under
    a sustained pad, which broadband energy does not."""
    mono = track.mean(axis=0).astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(mono, 1024)[:: RATE // 100] * np.hanning(1024)
    spectra = np.log1p(100 * np.abs(np.fft.rfft(frames, axis=1)))
    onsets = np.clip(np.diff(spectra, axis=0), 0, None).sum(axis=1)
    onsets -= onsets.mean()

    def peak(x: np.ndarray) -> float:
        ac = np.correlate(x, x, "full")[x.size - 1 :]
        bar = 4 * 60 / bpm * 100
        return float((ac[int(bar * 0.95) : int(bar * 1.05) + 1] / ac[0]).max())

    return peak(onsets), peak(np.random.default_rng(0).permutation(onsets))


@pytest.mark.parametrize("mood", MOODS)
def test_the_rhythm_repeats_every_bar(mood: Mood) -> None:
    steady, shuffled = bar_periodicity(track_of(mood), STYLES[mood].bpm)
    assert steady > 0.5
    assert steady > 3 * shuffled


def test_the_dark_mood_is_darker_than_the_playful_one() -> None:
    def centroid(mood: Mood) -> float:
        mono = track_of(mood).mean(axis=0)
        power = np.square(np.abs(np.fft.rfft(mono)))
        return float((power * np.fft.rfftfreq(mono.size, 1 / RATE)).sum() / power.sum())

    assert centroid("dark") < centroid("playful")


def test_an_unknown_mood_is_refused() -> None:
    with pytest.raises(RenderError, match="unknown mood 'loud'; moods: calm, uplifting, dramatic, playful, dark"):
        render_music("loud", 1, 5.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", [0.0, -1.0, 1801.0])
def test_a_length_out_of_range_is_refused(seconds: float) -> None:
    with pytest.raises(RenderError, match="is outside"):
        render_music("calm", 1, seconds)
