"""Measuring how smoothly a clip moves: a still of soft dots, and the sub-pixel path of one dot through the frames.

A Ken-Burns move is smooth when a point of the picture travels a steady (or steadily changing) distance per frame.
A filter that places the picture at whole pixels instead moves it 0, 1, 0, 1 ... pixels a frame, which the eye sees
as judder. We track a Gaussian dot by its intensity centroid (accurate to a few hundredths of a pixel, far finer
than the pixel steps we look for) and compare each frame's step with a smooth fit of all the steps.
Shared by the motion-smoothness test and ``benchmarks/motion_bench.py``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped,unused-ignore]
import numpy as np
from PIL import Image

#: Distance between dots and their softness (Gaussian sigma), in pixels of the still.
SPACING, SIGMA = 48, 4.0
#: How far from its last position the tracker looks for the dot (less than half the dot spacing).
RADIUS = 12


def dot_still(path: Path, width: int, height: int) -> Path:
    """A dark grey still with a grid of soft white dots (sub-pixel motion shows as smooth centroid motion)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx = (xs % SPACING) - SPACING / 2
    dy = (ys % SPACING) - SPACING / 2
    dots = np.exp(-(dx * dx + dy * dy) / (2 * SIGMA * SIGMA))
    gray = (30 + 200 * dots).astype(np.uint8)
    Image.fromarray(np.stack([gray] * 3, axis=-1)).save(path)
    return path


def gray_frames(clip: Path, width: int, height: int) -> np.ndarray:
    """Every frame of ``clip`` as 8-bit luma, shape (frames, height, width)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(clip), "-f", "rawvideo",
           "-pix_fmt", "gray", "pipe:1"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width)


def _centroid(frame: np.ndarray, x: float, y: float) -> tuple[float, float]:
    """Intensity centroid of the dot nearest (x, y), refined twice so the window centres on it."""
    for _ in range(3):
        x0, y0 = int(round(x)) - RADIUS, int(round(y)) - RADIUS
        patch = frame[y0:y0 + 2 * RADIUS + 1, x0:x0 + 2 * RADIUS + 1].astype(np.float64)
        weights = np.clip(patch - 60.0, 0, None)
        total = weights.sum()
        if total <= 0:
            raise AssertionError(f"lost the dot near ({x:.1f}, {y:.1f})")
        gy, gx = np.mgrid[0:patch.shape[0], 0:patch.shape[1]]
        x, y = x0 + float((weights * gx).sum() / total), y0 + float((weights * gy).sum() / total)
    return x, y


@dataclass(frozen=True)
class Smoothness:
    """Per-frame steps of the tracked dot along its direction of travel, and how far they stray from smooth."""

    steps: np.ndarray
    #: RMS deviation of the steps from a quadratic fit, relative to the mean step (0: perfectly smooth).
    jitter: float
    #: True when the dot moves the same way every frame (never stalls or steps back).
    monotonic: bool


def _steps(frames: np.ndarray, start: tuple[float, float]) -> np.ndarray:
    """Per-frame steps of the dot nearest ``start`` along its overall direction of travel."""
    first, half = frames[0], SPACING // 2
    x0, y0 = int(start[0]) - half, int(start[1]) - half
    peak = np.unravel_index(np.argmax(first[y0:y0 + SPACING, x0:x0 + SPACING]), (SPACING, SPACING))
    x, y = float(x0 + peak[1]), float(y0 + peak[0])
    path = []
    for frame in frames:
        x, y = _centroid(frame, x, y)
        path.append((x, y))
    points = np.array(path)
    direction = points[-1] - points[0]
    return np.asarray(np.diff(points, axis=0) @ (direction / np.linalg.norm(direction)))


def track(frames: np.ndarray, start: tuple[float, float], block: int = 3) -> Smoothness:
    """Follow a ``block`` x ``block`` group of dots from ``start`` (x, y in output pixels) and rate their motion.

    Averaging the group's steps cuts the encoder's noise on any one centroid by the group's size; in a zoom every
    dot's step has the same shape over time (scaled by its distance from the centre), so the average keeps it.
    """
    steps = np.mean([_steps(frames, (start[0] + col * SPACING, start[1] + row * SPACING))
                     for row in range(block) for col in range(block)], axis=0)
    index = np.arange(len(steps))
    fit = np.polyval(np.polyfit(index, steps, 2), index)
    jitter = float(np.sqrt(np.mean((steps - fit) ** 2)) / np.mean(np.abs(steps)))
    return Smoothness(steps=steps, jitter=jitter, monotonic=bool(np.all(steps > 0)))
