"""The offline storyboard frames: deterministic, varied, exact in size, soft (so no text is baked in)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.errors import FatalProviderError
from providers.base import ImageRequest
from providers.local import LocalImageProvider

SIZES = [(1280, 720), (720, 1280), (720, 720), (1920, 1080)]


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB")).astype(np.int16)


def _request(
    prompt: str = "a lighthouse on a cliff at dusk", seed: int = 7, size: tuple[int, int] = (1280, 720)
) -> ImageRequest:
    return ImageRequest(prompt=prompt, width=size[0], height=size[1], seed=seed, aspect_ratio="16:9")


def test_same_prompt_and_seed_give_byte_identical_png() -> None:
    assert LocalImageProvider().generate(_request()) == LocalImageProvider().generate(_request())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (_request("a quiet village at night"), _request("a busy harbour in the morning")),
        (_request("the history of bread"), _request("a robot learns to paint")),
        (_request(seed=1), _request(seed=2)),
    ],
)
def test_different_prompts_or_seeds_look_clearly_different(a: ImageRequest, b: ImageRequest) -> None:
    diff = np.abs(_pixels(LocalImageProvider().generate(a)) - _pixels(LocalImageProvider().generate(b)))
    assert diff.mean() > 12  # not a near-copy: palette and layout both move


@pytest.mark.parametrize("size", SIZES)
def test_size_is_exact(size: tuple[int, int]) -> None:
    pixels = _pixels(LocalImageProvider().generate(_request(size=size)))
    assert pixels.shape == (size[1], size[0], 3)


@pytest.mark.parametrize("prompt", ["snowy mountains", "desert dunes", "city skyline", "ocean waves", "x"])
def test_image_is_not_flat(prompt: str) -> None:
    pixels = _pixels(LocalImageProvider().generate(_request(prompt)))
    assert pixels.std() > 15
    coarse = pixels // 16
    assert len(np.unique(coarse[..., 0] * 256 + coarse[..., 1] * 16 + coarse[..., 2])) > 20  # many colours


@pytest.mark.parametrize("size", SIZES)
def test_no_sharp_glyph_edges(size: tuple[int, int]) -> None:
    """Rendered text has pixel-to-pixel jumps of 150+; our upscaled painting never exceeds a few dozen."""
    gray = _pixels(LocalImageProvider().generate(_request("night sky with stars over a city", size=size))).mean(axis=2)
    assert np.abs(np.diff(gray, axis=0)).max() < 80
    assert np.abs(np.diff(gray, axis=1)).max() < 80


@pytest.mark.parametrize("size", [(0, 720), (1280, -1), (10_000, 720)])
def test_bad_size_is_a_fatal_provider_error(size: tuple[int, int]) -> None:
    with pytest.raises(FatalProviderError):
        LocalImageProvider().generate(_request(size=size))
