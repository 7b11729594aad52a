"""The narration track: sample-exact scene lengths, -16 LUFS / -1 dBTP, graceful silence; per-scene levelled
pieces that join into a track meeting the same rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import RenderError
from media.audio import build_narration, level_scene
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


def test_a_levelled_piece_is_on_target_and_exactly_its_scene_long(tmp_path: Path, make_speech: MakeSpeech) -> None:
    voice = make_speech(tmp_path / "voice.wav", 2.6, level=0.05)
    made = level_scene(voice, 61 / 30, tmp_path / "piece.flac")  # shorter than the WAV: trimmed to the sample
    integrated, true_peak = loudness(tmp_path / "piece.flac")
    assert stream_durations(tmp_path / "piece.flac")[1] == pytest.approx(61 / 30, abs=ONE_SAMPLE)
    assert integrated == pytest.approx(-16.0, abs=0.5)
    assert made.lufs == pytest.approx(-16.0, abs=0.1)
    assert true_peak <= made.peak + 0.2


@pytest.mark.parametrize("clicks", [False, True], ids=["speech", "peaky"])
def test_levelled_pieces_join_into_a_track_on_target(tmp_path: Path, make_speech: MakeSpeech, clicks: bool) -> None:
    """Scenes of very different loudness, levelled one by one, then joined with only the final nudge."""
    scenes = [(make_speech(tmp_path / f"v{i}.wav", seconds, level=level, clicks=clicks and i == 1), seconds + 0.3)
              for i, (seconds, level) in enumerate([(3.0, 0.02), (4.0, 0.9), (2.0, 0.3)])]
    pieces = [(tmp_path / f"p{i}.flac", length) for i, (_, length) in enumerate(scenes)]
    peaks = [level_scene(voice, length, piece).peak for (voice, length), (piece, _) in zip(scenes, pieces, strict=True)]
    segments: list[tuple[Path | None, float]] = [*pieces, (None, 2.0)]
    out = build_narration(segments, tmp_path / "track.m4a", known_peak=max(peaks))
    integrated, true_peak = loudness(out)
    assert stream_durations(out)[1] == pytest.approx(sum(length for _, length in segments), abs=ONE_SAMPLE)
    assert integrated == pytest.approx(-16.0, abs=1.0)
    assert true_peak <= -1.0 + 0.2


def test_a_piece_of_a_broken_file_raises_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF nonsense")
    with pytest.raises(RenderError, match="broken.wav"):
        level_scene(broken, 2.0, tmp_path / "x.flac")
    assert not (tmp_path / "x.flac").exists()
