"""Background music: what it costs and what it sounds like (issue 16). Standalone: ``python benchmarks/sound_bench.py``.

Cost: CPU seconds of the offline generator for 120 s per mood; wall seconds to fit a bed to 120 s and to build the
120 s narration track without and with music (the ratio is what music adds to ``assemble``).

Listening figures per mood, on 20 s renders (what the listening note in the issue's report is based on): RMS
level, power-weighted spectral centroid, bar periodicity of the onsets (spectral flux per 10 ms; its autocorrelation
at the bar period vs. the same onsets shuffled: a steady beat scores far above its shuffle), the largest
sample-to-sample step of the whole track and of its pitched parts only (a click is a step of a sizeable part of full
scale; drums are noise and step a lot by nature), and the stereo correlation. Figures are printed, never asserted.
"""

from __future__ import annotations

import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECONDS = 120.0
RATE = 48_000


def listening_figures(mood: str, seconds: float = 20.0) -> dict[str, float]:
    from media.music import STYLES, render_track

    track = render_track(mood, 1, seconds)  # type: ignore[arg-type]
    tonal = render_track(mood, 1, seconds, voices=frozenset({"pad", "bass", "pluck", "bell"}))  # type: ignore[arg-type]
    mono = track.mean(axis=0).astype(np.float64)
    power = np.square(np.abs(np.fft.rfft(mono)))
    frames = np.lib.stride_tricks.sliding_window_view(mono, 1024)[:: RATE // 100] * np.hanning(1024)
    onsets = np.clip(np.diff(np.log1p(100 * np.abs(np.fft.rfft(frames, axis=1))), axis=0), 0, None).sum(axis=1)
    onsets -= onsets.mean()

    def bar_peak(x: np.ndarray) -> float:
        ac = np.correlate(x, x, "full")[x.size - 1 :]
        bar = 4 * 60 / STYLES[mood].bpm * 100  # type: ignore[index]
        return float((ac[int(bar * 0.95) : int(bar * 1.05) + 1] / ac[0]).max())

    return {
        "rms_dbfs": round(float(10 * np.log10(np.mean(np.square(track)))), 1),
        "centroid_hz": round(float((power * np.fft.rfftfreq(mono.size, 1 / RATE)).sum() / power.sum())),
        "bar_periodicity": round(bar_peak(onsets), 2),
        "shuffled": round(bar_peak(np.random.default_rng(0).permutation(onsets)), 2),
        "max_step": round(float(np.abs(np.diff(track, axis=1)).max()), 3),
        "max_step_pitched": round(float(np.abs(np.diff(tonal, axis=1)).max()), 3),
        "stereo_correlation": round(float(np.corrcoef(track[0], track[1])[0, 1]), 2),
    }


def _speech(path: Path, seconds: float) -> Path:
    """Speech-like narration (harmonics, syllables, pauses), as the media tests use."""
    t = np.arange(int(seconds * 24_000)) / 24_000
    phase = 2 * np.pi * np.cumsum(140 + 15 * np.sin(2 * np.pi * 0.7 * t)) / 24_000
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    signal = voice * np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 0.7 * (np.sin(2 * np.pi * 0.45 * t) > -0.8)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24_000)
        out.writeframes((0.3 * signal / np.abs(signal).max() * 32767).astype("<i2").tobytes())
    return path


def main() -> dict[str, Any]:
    from media.audio import build_narration
    from media.mix import MusicBed
    from media.music import MOODS, render_music, write_music
    from media.music_fit import fit_track

    results: dict[str, Any] = {"generate_cpu_s_per_120s": {}}
    for mood in MOODS:
        started = time.process_time()
        render_music(mood, 1, SECONDS)
        results["generate_cpu_s_per_120s"][mood] = round(time.process_time() - started, 2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = write_music("calm", 1, SECONDS, folder / "calm.wav")
        started = time.perf_counter()
        bed = fit_track(raw, folder / "bed.wav", SECONDS)
        results["fit_wall_s"] = round(time.perf_counter() - started, 2)
        line = _speech(folder / "line.wav", 9.0)
        segments: list[tuple[Path | None, float]] = [(line, 10.0)] * 12
        started = time.perf_counter()
        build_narration(segments, folder / "plain.m4a")
        plain = time.perf_counter() - started
        started = time.perf_counter()
        build_narration(segments, folder / "music.m4a", music=MusicBed(bed, 0.5))
        with_music = time.perf_counter() - started
        results |= {"narration_wall_s": round(plain, 2), "narration_with_music_wall_s": round(with_music, 2),
                    "music_mix_ratio": round(with_music / plain, 2)}
    results["listening_20s"] = {mood: listening_figures(mood) for mood in MOODS}
    return results


if __name__ == "__main__":
    import json

    sys.stdout.write(json.dumps(main(), indent=1) + "\n")
