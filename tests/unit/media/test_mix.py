"""Music under the narration, measured on real renders.

The narration is a deterministic speech-like signal whose word spans are known exactly (voiced harmonics with
formant weighting, syllable envelopes, soft function words, fricative tails, pauses), so "during speech" is measured
word by word. ``render_stems`` gives the narration and the ducked music exactly as ``build_narration`` sums them;
a test checks that the two stems really add up to the final mix, so measuring them is measuring the mix. One test
repeats the main checks with the offline Piper voice (real speech; Piper is not bit-exact run to run, so it only
checks per-line levels, where the margin is wide).
"""

from __future__ import annotations

import functools
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from media.audio import build_narration, render_stems
from media.ffmpeg import ffmpeg_exe
from media.mix import MusicBed
from media.music import write_music
from media.music_fit import fit_track
from media.probe import loudness, stream_durations

RATE = 48_000
SPEECH_RATE = 24_000
#: (seconds, level in dB) per word of a line: stressed words at 0 dB, function words quieter, one very soft word.
LINE = [(0.32, 0.0), (0.16, -9.0), (0.41, -2.0), (0.22, -12.0), (0.38, 0.0), (0.18, -8.0), (0.45, -3.0),
        (0.2, -14.0), (0.34, -1.0), (0.27, -6.0), (0.5, 0.0)]
#: Scenes: a line, a silent scene (a gap of 3 s), the line again.
SCENES = (5.0, 3.0, 5.0)
GAP = (5.0 + 1.2, 8.0 - 0.1)  # inside the silent scene, once the bed has come back up


def write_line(path: Path) -> list[tuple[float, float]]:
    """Write one spoken line (mono 24 kHz) and return its word spans in seconds."""
    rng = np.random.default_rng(4)
    parts, spans, at = [np.zeros(int(0.2 * SPEECH_RATE))], [], 0.2
    for index, (seconds, level) in enumerate(LINE):
        n = int(seconds * SPEECH_RATE)
        t = np.arange(n) / SPEECH_RATE
        f0 = 120 + 25 * np.sin(np.pi * t / seconds) + 8 * index % 30
        phase = 2 * np.pi * np.cumsum(f0) / SPEECH_RATE
        formants = {k: np.exp(-((k * 130 - 550) / 300) ** 2) + 0.5 * np.exp(-((k * 130 - 1600) / 500) ** 2)
                    for k in range(1, 30)}
        # harmonics with scattered phases, as a vocal tract leaves them (phase-aligned ones would be a pulse train
        # with an unnaturally high crest factor)
        voiced = sum(w * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) for k, w in formants.items())
        syllables = 1 + (seconds > 0.3)
        envelope = np.sin(np.pi * syllables * t / seconds) ** 2
        word = voiced * envelope / np.abs(voiced).max()
        if index % 3 == 2:  # a fricative tail ("s", "sh")
            tail = min(n, int(0.08 * SPEECH_RATE))
            word[-tail:] += 0.25 * np.diff(rng.standard_normal(tail + 1)) * np.hanning(tail)
        parts.append(word * 10 ** (level / 20))
        spans.append((at, at + seconds))
        gap = 0.35 if index == 5 else 0.08 + 0.04 * (index % 3)
        parts.append(np.zeros(int(gap * SPEECH_RATE)))
        at += seconds + gap
    signal = 0.3 * np.concatenate(parts)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SPEECH_RATE)
        out.writeframes((signal * 32767).astype("<i2").tobytes())
    return spans


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as track:
        return np.frombuffer(track.readframes(track.getnframes()), "<i2").reshape(-1, track.getnchannels()) / 32768.0


def decode(path: Path) -> np.ndarray:
    """Any file's first audio stream as 48 kHz stereo float (the AAC mix as a player decodes it)."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-ar", "48000", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, 2).astype(np.float64)


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


def span(x: np.ndarray, start: float, end: float) -> np.ndarray:
    return x[int(start * RATE) : int(end * RATE)]


@functools.cache
def rendered(volume: float, folder: Path) -> tuple[np.ndarray, np.ndarray, Path, list[tuple[float, float]]]:
    """(voice stem, music stem, final mix file, word spans in video time) for one volume, rendered once."""
    spans = write_line(folder / "line.wav")
    segments: list[tuple[Path | None, float]] = [(folder / "line.wav", SCENES[0]), (None, SCENES[1]),
                                                 (folder / "line.wav", SCENES[2])]
    total = sum(SCENES)
    bed = fit_track(write_music("calm", 3, total, folder / "calm.wav"), folder / "bed.wav", total)
    music = MusicBed(bed, volume)
    mixed = build_narration(segments, folder / f"mix-{volume}.m4a", music=music)
    voice, ducked = render_stems(segments, music, folder / f"voice-{volume}.wav", folder / f"music-{volume}.wav")
    offset = SCENES[0] + SCENES[1]
    words = spans + [(a + offset, b + offset) for a, b in spans]
    return read_wav(voice), read_wav(ducked), mixed, words


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mix")


def test_the_mix_is_at_minus_16_lufs(folder: Path) -> None:
    assert loudness(rendered(0.5, folder)[2])[0] == pytest.approx(-16.0, abs=1.0)


def test_the_mix_peaks_at_or_under_minus_1_dbtp(folder: Path) -> None:
    assert loudness(rendered(0.5, folder)[2])[1] <= -1.0


def test_the_mix_is_exactly_as_long_as_the_scenes(folder: Path) -> None:
    assert stream_durations(rendered(0.5, folder)[2])[1] == pytest.approx(sum(SCENES), abs=1 / RATE)


def test_every_word_is_at_least_15_db_above_the_music(folder: Path) -> None:
    voice, music, _, words = rendered(0.5, folder)
    assert min(db(span(voice, a, b)) - db(span(music, a, b)) for a, b in words) >= 15.0


def test_at_full_volume_every_line_is_at_least_15_db_above_the_music(folder: Path) -> None:
    voice, music, _, words = rendered(1.0, folder)
    lines = [(words[0][0], words[len(LINE) - 1][1]), (words[len(LINE)][0], words[-1][1])]
    assert min(db(span(voice, a, b)) - db(span(music, a, b)) for a, b in lines) >= 15.0


def test_the_music_is_audible_between_the_lines(folder: Path) -> None:
    assert db(span(decode(rendered(0.5, folder)[2]), *GAP)) > -45.0


def test_the_music_ducks_while_the_narration_speaks(folder: Path) -> None:
    _, music, _, words = rendered(0.5, folder)
    line = (words[0][0], words[len(LINE) - 1][1])
    assert db(span(music, *GAP)) - db(span(music, *line)) >= 10.0


def test_half_the_volume_is_6_db_less_music(folder: Path) -> None:
    louder, quieter = rendered(1.0, folder)[1], rendered(0.5, folder)[1]
    assert db(span(louder, *GAP)) - db(span(quieter, *GAP)) == pytest.approx(6.0, abs=1.0)


def test_the_music_fades_in(folder: Path) -> None:
    """The first 100 ms come before the first word (and its ducking): only the fade-in keeps them quiet."""
    music = rendered(0.5, folder)[1]
    assert db(span(music, 0.0, 0.1)) < db(span(music, *GAP)) - 15.0


def test_the_stems_add_up_to_the_mix_to_the_sample(folder: Path) -> None:
    """mix - (voice + music) is only AAC's coding noise (~20 dB down at 128 kb/s); one sample off it would be ~9."""
    voice, music, mixed, _ = rendered(0.5, folder)
    heard = decode(mixed)[: voice.shape[0]]
    assert db(heard - voice - music) < db(heard) - 15.0


def test_the_stems_have_the_mix_level_everywhere(folder: Path) -> None:
    voice, music, mixed, _ = rendered(0.5, folder)
    heard, summed = decode(mixed)[: voice.shape[0]], voice + music
    windows = [slice(i, i + RATE // 10) for i in range(0, summed.shape[0] - RATE // 10, RATE // 10)]
    assert max(abs(db(heard[w]) - db(summed[w])) for w in windows if db(summed[w]) > -50.0) < 1.5


def test_without_narration_the_music_is_the_programme(folder: Path) -> None:
    total = 6.0
    bed = fit_track(write_music("playful", 1, total, folder / "p.wav"), folder / "p-bed.wav", total)
    out = build_narration([(None, total)], folder / "music-only.m4a", music=MusicBed(bed, 0.5))
    assert loudness(out)[0] == pytest.approx(-16.0, abs=1.0)


def test_real_speech_from_the_offline_voice(folder: Path) -> None:
    from providers.local.voice import LocalSpeechProvider

    speech = LocalSpeechProvider().synthesize("The river wakes before the town does. Fog lifts slowly, and the "
                                              "first boats slide out into the grey light.", "joe")
    line = folder / "piper.wav"
    line.write_bytes(speech.wav)
    scene = speech.duration + 0.3
    total = 2 * scene + 3.0
    bed = fit_track(write_music("uplifting", 2, total, folder / "u.wav"), folder / "u-bed.wav", total)
    segments: list[tuple[Path | None, float]] = [(line, scene), (None, 3.0), (line, scene)]
    mixed = build_narration(segments, folder / "piper.m4a", music=MusicBed(bed, 0.5))
    voice_file, music_file = render_stems(segments, MusicBed(bed, 0.5), folder / "pv.wav", folder / "pm.wav")
    voice, music = read_wav(voice_file), read_wav(music_file)
    spoken = (speech.words[0].start, speech.words[-1].end)
    gap = (scene + 1.2, scene + 2.9)
    assert db(span(voice, *spoken)) - db(span(music, *spoken)) >= 15.0
    assert db(span(decode(mixed), *gap)) > -45.0
    assert loudness(mixed)[0] == pytest.approx(-16.0, abs=1.0)
