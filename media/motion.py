"""Ken-Burns motion made in Python: each frame is the still resampled at sub-pixel positions, fed raw to ffmpeg.

Why not an ffmpeg filter: ``zoompan`` crops at whole pixels of its input, so a slow zoom or pan judders (the
per-frame step of a tracked point varies by ~200 % of its mean; ~40 % even over a 4x upscale); ``perspective``
samples sub-pixel positions and is smooth, but it computes a full projective transform per pixel and cost more CPU
than the x264 encode itself. The moves we make are only scale + translate, so each frame is one affine warp:
OpenCV's ``warpAffine`` (bilinear, fixed-point, vectorised) does it on the three yuv420p planes of the still in
about a millisecond per frame, and the frames go to ffmpeg's stdin already in the encoder's pixel format, so ffmpeg
only burns captions, fades and encodes (see ``benchmarks/RESULTS.md`` for the measured candidates and
``tests/unit/media/test_motion_smoothness.py`` for the smoothness check).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, get_args

import cv2  # type: ignore[import-untyped,unused-ignore]
import numpy as np

from core.errors import RenderError

Motion = Literal["zoom_in", "zoom_out", "pan_left", "pan_right"]

#: The order scenes cycle through: alternate zooms with pans so consecutive scenes never move alike.
MOTION_CYCLE: tuple[Motion, ...] = ("zoom_in", "pan_right", "zoom_out", "pan_left")
#: Zoom range of zoom_in/zoom_out: enough to feel alive, little enough not to lose the picture's edges.
MAX_ZOOM = 1.15
#: Zoom held during pans: the slack (1 - 1/zoom of the width) is the distance travelled.
PAN_ZOOM = 1.12
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP

# One thread per warp: a flow renders four scenes at once, and splitting a ~3.5 ms warp over OpenCV's own pool
# measured 35 % more CPU per frame (4.8 vs 3.5 ms at 720p) for no gain when the cores are already busy.
cv2.setNumThreads(1)


def motion_for(index: int) -> Motion:
    """The motion of scene ``index`` (0-based): cycles through ``MOTION_CYCLE``."""
    return MOTION_CYCLE[index % len(MOTION_CYCLE)]


def camera(motion: Motion, width: int, height: int, frames: int) -> Iterator[tuple[float, float, float]]:
    """Per frame: (zoom, x, y of the still's point shown at the frame's centre), in still pixels.

    Zoom is geometric (z0 * (z1/z0)^p) so it looks steady rather than slowing down; p runs 0..1 over the clip.
    Pans hold ``PAN_ZOOM`` and travel the slack that zoom leaves, from one edge to the other.
    """
    if motion not in get_args(Motion):
        raise RenderError(f"unknown motion {motion!r}")
    for n in range(frames):
        p = n / max(frames - 1, 1)
        if motion in ("zoom_in", "zoom_out"):
            z0, z1 = (1.0, MAX_ZOOM) if motion == "zoom_in" else (MAX_ZOOM, 1.0)
            yield z0 * (z1 / z0) ** p, width / 2, height / 2
        else:
            half_slack = (width - width / PAN_ZOOM) / 2
            direction = 1 if motion == "pan_right" else -1
            yield PAN_ZOOM, width / 2 + direction * half_slack * (2 * p - 1), height / 2


def _inverse(zoom: float, cx: float, cy: float, width: int, height: int, sub: int) -> np.ndarray:
    """The output → still map of one plane subsampled by ``sub`` (pixel centres at +0.5, hence the offsets)."""
    w, h, x, y = width / sub, height / sub, cx / sub, cy / sub
    return np.array([[1 / zoom, 0.0, x - w / (2 * zoom) + 0.5 / zoom - 0.5],
                     [0.0, 1 / zoom, y - h / (2 * zoom) + 0.5 / zoom - 0.5]])


def moving_frames(still: bytes, motion: Motion, width: int, height: int, frames: int) -> Iterator[memoryview]:
    """Raw yuv420p frames of ``still`` (one raw yuv420p frame of width x height) moving by ``motion``.

    Each plane is warped on its own grid (chroma at half size), so no colour conversion happens per frame.
    """
    luma, chroma = width * height, (width // 2) * (height // 2)
    if len(still) != luma + 2 * chroma:
        raise RenderError(f"still is {len(still)} bytes, not one {width}x{height} yuv420p frame")
    source = np.frombuffer(still, np.uint8)
    planes = [(source[:luma].reshape(height, width), 1),
              (source[luma:luma + chroma].reshape(height // 2, width // 2), 2),
              (source[luma + chroma:].reshape(height // 2, width // 2), 2)]
    out = np.empty(luma + 2 * chroma, np.uint8)
    views = [out[:luma].reshape(height, width), out[luma:luma + chroma].reshape(height // 2, width // 2),
             out[luma + chroma:].reshape(height // 2, width // 2)]
    for zoom, cx, cy in camera(motion, width, height, frames):
        for (plane, sub), view in zip(planes, views, strict=True):
            cv2.warpAffine(plane, _inverse(zoom, cx, cy, width, height, sub), (view.shape[1], view.shape[0]),
                           dst=view, flags=_FLAGS, borderMode=cv2.BORDER_REPLICATE)
        yield out.data  # the same buffer each time: the consumer writes it out before asking for the next
