"""Scene timing: frame-aligned, never shorter than narration + 0.3 s, 2 s minimum, 5 s without narration."""

from __future__ import annotations

import pytest

from media.timing import frame_align, frame_count, scene_duration


@pytest.mark.parametrize(
    ("seconds", "fps", "expected_frames"),
    [(2.0, 30, 60), (2.01, 30, 61), (2.05, 24, 50), (0.0, 24, 0), (1 / 3, 30, 10), (5.0, 25, 125)],
)
def test_frame_align_rounds_up_to_whole_frames(seconds: float, fps: int, expected_frames: int) -> None:
    aligned = frame_align(seconds, fps)
    assert aligned == pytest.approx(expected_frames / fps)
    assert frame_count(aligned, fps) == expected_frames
    assert aligned >= seconds - 1e-9


def test_frame_align_rejects_bad_fps() -> None:
    with pytest.raises(ValueError):
        frame_align(1.0, 0)


@pytest.mark.parametrize(
    ("narration", "fps", "expected"),
    [
        (None, 30, 5.0),
        (0.5, 30, 2.0),  # the 2 s floor
        (1.7, 30, 2.0),  # 1.7 + 0.3 lands exactly on it
        (1.75, 30, 62 / 30),  # 2.05 s -> 61.5 frames -> 62
        (4.79, 24, 123 / 24),  # 5.09 s -> 122.16 frames -> 123
    ],
)
def test_scene_duration(narration: float | None, fps: int, expected: float) -> None:
    duration = scene_duration(narration, fps)
    assert duration == pytest.approx(expected)
    if narration is not None:
        assert duration >= narration + 0.3 - 1e-9
    assert (duration * fps) == pytest.approx(round(duration * fps))
