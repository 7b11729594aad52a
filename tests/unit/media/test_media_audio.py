"""The narration track: sample-exact scene lengths, -16 LUFS / -1 dBTP, graceful silence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import RenderError
from media.audio import build_narration
from media.probe import AudioStream, loudness, probe, stream_durations

MakeSpeech = Callable[..., Path]

ONE_SAMPLE = 1 / 48000


def test_all_silent_track(tmp_path: Path) -> None:
    out = build_narration([(None, 2.0), (None, 3.5)], tmp_path / "silent.m4a")
    assert probe(out).audio == AudioStream(codec="aac", sample_rate=48000, channels=2)
    assert stream_durations(out)[1] == pytest.approx(5.5, abs=ONE_SAMPLE)
    assert loudness(out)[0] <= -70.0


def test_scenes_are_padded_and_trimmed_to_the_sample(tmp_path: Path, make_speech: MakeSpeech) -> None:
    voice = make_speech(tmp_path / "voice.wav", 2.6, level=0.2)
    # the same file twice and two equal silences: ffmpeg-python would merge identical inputs without a split
    segments: list[tuple[Path | None, float]] = [(voice, 3.0), (None, 2.0), (None, 2.0), (voice, 2.0), (voice, 61 / 30)]
    out = build_narration(segments, tmp_path / "track.m4a")
    assert stream_durations(out)[1] == pytest.approx(3.0 + 2.0 + 2.0 + 2.0 + 61 / 30, abs=ONE_SAMPLE)


@pytest.mark.parametrize(
    ("level", "clicks"), [(0.05, False), (0.9, False), (0.3, True)], ids=["quiet", "loud", "peaky"]
)
def test_loudness_lands_on_target(tmp_path: Path, make_speech: MakeSpeech, level: float, clicks: bool) -> None:
    voice = make_speech(tmp_path / "voice.wav", 4.0, level=level, clicks=clicks)
    out = build_narration([(voice, 4.3), (None, 2.0)], tmp_path / "track.m4a")
    assert stream_durations(out)[1] == pytest.approx(6.3, abs=ONE_SAMPLE)  # also through the oversampled limiter
    integrated, true_peak = loudness(out)
    assert integrated == pytest.approx(-16.0, abs=1.0)
    assert true_peak <= -1.0 + 0.2


def test_custom_target(tmp_path: Path, make_speech: MakeSpeech) -> None:
    voice = make_speech(tmp_path / "voice.wav", 3.0)
    integrated, true_peak = loudness(build_narration([(voice, 3.3)], tmp_path / "t.m4a", target_lufs=-23, true_peak=-2))
    assert integrated == pytest.approx(-23.0, abs=1.0)
    assert true_peak <= -2.0 + 0.2


def test_no_scenes_or_bad_durations_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError):
        build_narration([], tmp_path / "x.m4a")
    with pytest.raises(RenderError, match="not positive"):
        build_narration([(None, 0.0)], tmp_path / "x.m4a")


def test_broken_narration_raises_with_ffmpegs_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF nonsense")
    with pytest.raises(RenderError, match="(?s)^measure narration loudness failed: .*broken.wav"):
        build_narration([(broken, 2.0)], tmp_path / "x.m4a")
    assert not (tmp_path / "x.m4a").exists()
