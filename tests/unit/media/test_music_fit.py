"""A caller's (or vendor's) track fitted to the video: probed, looped without clicks or trimmed, faded in and out."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from core.errors import RenderError
from media.ffmpeg import file_arg, run
from media.music_fit import fit_track
from media.probe import AudioStream, probe

RATE = 48_000


def write_tone(path: Path, seconds: float, rate: int = 22_050, channels: int = 1) -> np.ndarray:
    """A 440 Hz tone riding on a slow ramp: its last sample is far from its first, so a plain loop would click."""
    t = np.arange(int(seconds * rate)) / rate
    signal = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * t / t[-1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.repeat(signal[:, None], channels, axis=1) * 32767).astype("<i2").tobytes())
    return signal


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as track:
        return np.frombuffer(track.readframes(track.getnframes()), "<i2").reshape(-1, track.getnchannels()) / 32768.0


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


@pytest.fixture
def short_tone(tmp_path: Path) -> tuple[Path, np.ndarray]:
    path = tmp_path / "short.wav"
    return path, write_tone(path, 3.3217)


def test_the_fitted_track_is_48_khz_stereo(tmp_path: Path, short_tone: tuple[Path, np.ndarray]) -> None:
    out = fit_track(short_tone[0], tmp_path / "bed.wav", 10.0)
    assert probe(out).audio == AudioStream(codec="pcm_s16le", sample_rate=48_000, channels=2)


def test_a_short_track_is_looped_to_the_exact_length(tmp_path: Path, short_tone: tuple[Path, np.ndarray]) -> None:
    out = fit_track(short_tone[0], tmp_path / "bed.wav", 10.0 + 7 / RATE)
    assert read(out).shape[0] == 480_007


def test_loop_seams_do_not_click(tmp_path: Path, short_tone: tuple[Path, np.ndarray]) -> None:
    """The source's own largest step between samples is ~0.03 (at 22 kHz); a plain loop would jump by ~0.3."""
    path, source = short_tone
    fitted = read(fit_track(path, tmp_path / "bed.wav", 10.0))
    assert float(np.abs(np.diff(fitted, axis=0)).max()) <= float(np.abs(np.diff(source)).max())


def test_loop_seams_do_not_dip(tmp_path: Path) -> None:
    """Equal-power seams: no 100 ms window between the fades is 2 dB under the track's level (a linear crossfade
    dips 3 dB at its middle). (Music is
    uncorrelated across a seam, like the noise used here; a pure tone could partly cancel in any crossfade.)"""
    noise = np.convolve(np.random.default_rng(2).standard_normal(int(3.5 * 22_050)), np.ones(8) / 8, "same")
    with wave.open(str(tmp_path / "noise.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22_050)
        out.writeframes((0.3 * noise / np.abs(noise).max() * 32767).astype("<i2").tobytes())
    fitted = read(fit_track(tmp_path / "noise.wav", tmp_path / "bed.wav", 10.0))
    level = rms_db(fitted[RATE : 8 * RATE])
    windows = [rms_db(fitted[i : i + RATE // 10]) for i in range(RATE, 8 * RATE, RATE // 20)]
    assert min(windows) > level - 2.0


def test_a_long_track_is_trimmed(tmp_path: Path) -> None:
    write_tone(tmp_path / "long.wav", 12.0, rate=44_100, channels=2)
    assert read(fit_track(tmp_path / "long.wav", tmp_path / "bed.wav", 5.5)).shape[0] == 5.5 * RATE


def test_the_track_fades_in_from_silence(tmp_path: Path, short_tone: tuple[Path, np.ndarray]) -> None:
    fitted = read(fit_track(short_tone[0], tmp_path / "bed.wav", 10.0))
    assert rms_db(fitted[: RATE // 20]) < rms_db(fitted[RATE : 2 * RATE]) - 20.0


def test_the_track_fades_out_to_silence(tmp_path: Path, short_tone: tuple[Path, np.ndarray]) -> None:
    fitted = read(fit_track(short_tone[0], tmp_path / "bed.wav", 10.0))
    assert float(np.abs(fitted[-1]).max()) < 0.001


def test_a_compressed_track_is_decoded(tmp_path: Path) -> None:
    write_tone(tmp_path / "tone.wav", 4.0, rate=44_100)
    aac = tmp_path / "song.m4a"
    run(["-i", file_arg(tmp_path / "tone.wav"), "-c:a", "aac", file_arg(aac)], what="encode test track")
    assert read(fit_track(aac, tmp_path / "bed.wav", 9.0)).shape[0] == 9 * RATE


def test_a_file_without_audio_is_refused_with_its_name(tmp_path: Path) -> None:
    picture = tmp_path / "cover.png"
    run(["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", file_arg(picture)], what="make picture")
    with pytest.raises(RenderError, match="music track cover.png has no audio stream"):
        fit_track(picture, tmp_path / "bed.wav", 5.0)


def test_a_file_that_is_not_media_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "song.mp3"
    page.write_text("<html>not found</html>")
    with pytest.raises(RenderError, match="song.mp3"):
        fit_track(page, tmp_path / "bed.wav", 5.0)


def test_a_track_too_short_to_loop_is_refused(tmp_path: Path) -> None:
    write_tone(tmp_path / "blip.wav", 1.2)
    with pytest.raises(RenderError, match=r"music track blip.wav is 1.20 s long; at least 3 s is needed"):
        fit_track(tmp_path / "blip.wav", tmp_path / "bed.wav", 5.0)


def test_a_failed_fit_leaves_no_file_behind(tmp_path: Path) -> None:
    write_tone(tmp_path / "blip.wav", 1.2)
    with pytest.raises(RenderError):
        fit_track(tmp_path / "blip.wav", tmp_path / "bed.wav", 5.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blip.wav"]
