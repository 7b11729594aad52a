"""Ken-Burns smoothness on a synthetic grid still: a tracked point advances evenly every frame, never in pixel steps.

The tracker (``tests.motion_track``) follows one soft dot of a dot grid by its sub-pixel centroid. The same measure
applied to ffmpeg's ``zoompan`` (which crops at whole pixels) must report judder, so a pass here means the motion is
smooth rather than that the measure is blind.
"""

from __future__ import annotations

from pathlib import Path

import ffmpeg  # type: ignore[import-untyped,unused-ignore]
import pytest

from media.ffmpeg import file_arg, run
from media.motion import PAN_ZOOM
from media.scene import MOTION_CYCLE, Motion, render_still_clip
from tests.motion_track import dot_still, gray_frames, track

W, H, FPS, SECONDS = 640, 360, 30, 2.0
#: Where the tracked group of dots starts: far from the centre for zooms (they move it most), mid-frame for pans.
ZOOM_START, PAN_START = (W * 0.12, H * 0.2), (W * 0.4, H * 0.3)
#: Largest accepted RMS deviation of the per-frame step from a smooth curve, relative to the mean step (measured:
#: 1-3 % through the x264 encode, 1-2 % on the raw frames; whole-pixel zoompan: several times the limit).
MAX_JITTER = 0.08


@pytest.fixture(scope="module")
def dots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dot_still(tmp_path_factory.mktemp("dots") / "dots.png", W, H)


@pytest.mark.parametrize("motion", MOTION_CYCLE)
def test_every_motion_moves_a_point_smoothly_and_monotonically(tmp_path: Path, dots: Path, motion: Motion) -> None:
    clip = render_still_clip(dots, tmp_path / "clip.mp4", duration=SECONDS, width=W, height=H, fps=FPS,
                             motion=motion, ass=None)
    frames = gray_frames(clip, W, H)
    rated = track(frames, ZOOM_START if motion.startswith("zoom") else PAN_START)
    assert len(frames) == round(SECONDS * FPS)
    assert rated.monotonic, f"the point stalls or steps back: {rated.steps.round(3)}"
    assert abs(rated.steps).mean() > 0.1, "the point hardly moves"
    assert rated.jitter < MAX_JITTER, f"jitter {rated.jitter:.3f}: {rated.steps.round(3)}"
    assert rated.steps.min() > 0.5 * rated.steps.mean(), "no frame may (nearly) stall, as whole-pixel moves do"


def test_the_measure_sees_the_judder_of_whole_pixel_zoompan(tmp_path: Path, dots: Path) -> None:
    frames_n = round(SECONDS * FPS)
    slack = W - W / PAN_ZOOM
    pan = ffmpeg.input(file_arg(dots)).video.filter(
        "zoompan", z=PAN_ZOOM, x=f"{slack:.3f}*on/{frames_n - 1}", y="ih/2-ih/zoom/2", d=frames_n, s=f"{W}x{H}",
        fps=FPS,
    )
    out = tmp_path / "zoompan.mp4"
    run(pan.output(file_arg(out), vcodec="libx264", preset="ultrafast", pix_fmt="yuv420p"), what="zoompan")
    rated = track(gray_frames(out, W, H), PAN_START)
    assert rated.jitter > 3 * MAX_JITTER, f"zoompan measured smooth ({rated.jitter:.3f}): the measure is blind"
