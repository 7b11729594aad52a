"""Inputs for the media tests, generated on the fly: a still (Pillow) and speech-like narration (numpy).

The generators are handed out as fixtures (``make_still``, ``make_speech``) rather than imported, because test
folders have no ``__init__.py`` and ``import conftest`` could pick up another folder's conftest.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw


def write_still(path: Path, size: tuple[int, int]) -> Path:
    """A picture with detail everywhere (gradients + grid), so motion and crops are visible in frame data."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=-1).astype(np.uint8)
    pixels[::32, :, :] = 255
    image = Image.fromarray(pixels)
    ImageDraw.Draw(image).ellipse((width // 3, height // 3, width // 2, height // 2), fill=(250, 240, 20))
    image.save(path)
    return path


def write_speech(path: Path, seconds: float, *, rate: int = 22050, level: float = 0.3, clicks: bool = False) -> Path:
    """Speech-like mono 16-bit WAV: a 140 Hz voice with harmonics, syllables at ~4 Hz, pauses; optional clicks
    (sparse full-scale peaks) to drive the limiter path."""
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 15 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 0.7
    pauses = (np.sin(2 * np.pi * 0.45 * t + 1.0) > -0.8).astype(float)
    signal = voice * syllables * pauses + 0.02 * rng.standard_normal(t.size)
    signal = level * signal / np.max(np.abs(signal))
    if clicks:
        for at in rng.integers(0, t.size - 10, size=6):
            signal[at : at + 3] = [0.99, -0.99, 0.99]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((signal * 32767).astype("<i2").tobytes())
    return path


MakeStill = Callable[[Path, tuple[int, int]], Path]
MakeSpeech = Callable[..., Path]


@pytest.fixture(scope="session")
def make_still() -> MakeStill:
    return write_still


@pytest.fixture(scope="session")
def make_speech() -> MakeSpeech:
    return write_speech


@pytest.fixture
def still(tmp_path: Path) -> Path:
    return write_still(tmp_path / "still.png", (640, 480))
