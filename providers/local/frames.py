"""Offline storyboard frames: a soft procedural picture per (prompt, seed), with no model and no network.

Why procedural: offline mode must render a whole video without any image model, yet consecutive scenes should look
clearly different and a rerun must hit the content-addressed cache byte for byte. So every choice here (theme,
palette, layout) comes from keywords of the prompt and a sha256 of (prompt, seed) feeding numpy's PCG64; nothing
depends on time, threads or the platform's hash salt.

Why low resolution: the picture is painted at 1/8 of the output size (a few thousand pixels of numpy maths) and
upscaled by PIL's bicubic filter, which is both what keeps a 1280x720 frame at a few tens of milliseconds and what
gives the soft, painted look. No text is ever drawn: captions are burned in later from the narration's timings.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import logging
import re
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from core.errors import FatalProviderError
from providers.base import ImageRequest

_LOGGER = logging.getLogger(__name__)

RENDERER_VERSION = "local-frames-1"
"""Part of the asset cache key: bump whenever a change alters the pixels for the same (prompt, seed)."""

Array = NDArray[np.float64]
Color = NDArray[np.float64]

_SCALE = 8  # paint at 1/_SCALE of the output size, then upscale
_MAX_SIDE = 8192
_PNG_COMPRESS_LEVEL = 1  # smooth images compress well even at level 1; level 6 costs ~3x the time


@dataclass(frozen=True)
class _Theme:
    """What a prompt looks like: sky hue and brightness, optional ground hue, and which layers are drawn."""

    hue: float
    value: float
    sun: bool
    stars: bool
    ground_hue: float | None = None
    ground: str = "hills"  # "hills" | "mountains" | "water" | "dunes" | "city"


# Mood keywords choose the palette; the first mood whose keywords occur in the prompt wins.
_MOODS: tuple[tuple[_Theme, frozenset[str]], ...] = (
    (_Theme(0.66, 0.35, sun=True, stars=True), frozenset(
        "night moon star stars space galaxy midnight dark planet cosmos".split())),
    (_Theme(0.05, 0.95, sun=True, stars=False), frozenset(
        "sunset sunrise dawn dusk evening fire autumn warm golden".split())),
    (_Theme(0.58, 1.0, sun=True, stars=False, ground_hue=0.6), frozenset(
        "snow snowy winter ice frozen cold arctic".split())),
    (_Theme(0.14, 0.9, sun=False, stars=False, ground_hue=0.3), frozenset(
        "forest tree trees jungle garden park spring meadow field grass farm green".split())),
    (_Theme(0.55, 0.9, sun=True, stars=False), frozenset(
        "sea ocean beach wave waves lake river water island coast boat ship blue".split())),
    (_Theme(0.09, 0.95, sun=True, stars=False, ground_hue=0.08), frozenset(
        "desert sand dune dunes dry summer sunny canyon savanna".split())),
)

# Ground keywords choose the foreground layers; checked in order, so "sunset over the ocean" gets water.
_GROUNDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("water", frozenset("sea ocean beach wave waves lake river water coast boat ship harbor".split())),
    ("city", frozenset("city street town building buildings office skyline urban market village factory".split())),
    ("mountains", frozenset("mountain mountains peak peaks alps cliff cliffs snowy volcano range".split())),
    ("dunes", frozenset("desert sand dune dunes canyon savanna".split())),
    ("hills", frozenset("hill hills valley forest tree trees meadow field farm garden park countryside".split())),
)
_GROUND_KINDS = ("hills", "mountains", "water", "dunes", "city")


class LocalImageProvider:
    """The offline :class:`providers.base.ImageProvider`: deterministic procedural storyboard frames as PNG."""

    name = "local"

    def generate(self, request: ImageRequest) -> bytes:
        """PNG bytes of a ``request.width`` x ``request.height`` frame, identical for identical (prompt, seed)."""
        width, height = request.width, request.height
        if not (0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE):
            raise FatalProviderError(f"frame size {width}x{height} is out of range", provider=self.name)
        digest = hashlib.sha256(f"{request.seed}\x00{request.prompt}".encode()).digest()
        rng = np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "big")))
        theme = _pick_theme(request.prompt, rng)
        small = _paint(max(2, -(-width // _SCALE)), max(2, -(-height // _SCALE)), theme, rng)
        image = Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BICUBIC)
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=_PNG_COMPRESS_LEVEL)
        _LOGGER.debug("local frame %dx%d theme=%s", width, height, theme.ground)
        return out.getvalue()


def _pick_theme(prompt: str, rng: np.random.Generator) -> _Theme:
    """Palette and ground named by the prompt's keywords; whatever no keyword names is drawn from the hash."""
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    mood = next((theme for theme, keys in _MOODS if words & keys), None)
    if mood is None:
        mood = _Theme(hue=float(rng.random()), value=float(rng.uniform(0.6, 0.95)), sun=bool(rng.random() < 0.6),
                      stars=False)
    ground = next((kind for kind, keys in _GROUNDS if words & keys), None)
    if ground is None:
        ground = _GROUND_KINDS[int(rng.integers(len(_GROUND_KINDS)))]
    return replace(mood, ground=ground)


def _hsv(hue: float, sat: float, val: float) -> Color:
    """One RGB colour in [0, 1] as a numpy vector (hue wraps around)."""
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, min(max(sat, 0.0), 1.0), min(max(val, 0.0), 1.0)))


def _blend(canvas: Array, color: Color, alpha: Array) -> None:
    """Paint ``color`` over ``canvas`` (h, w, 3) in place with a per-pixel ``alpha`` (h, w)."""
    canvas += (color[None, None, :] - canvas) * alpha[:, :, None]


def _paint(w: int, h: int, theme: _Theme, rng: np.random.Generator) -> NDArray[np.uint8]:
    """The whole picture at low resolution as uint8 RGB: sky, glow blobs, sun, ground layers, vignette."""
    hue = theme.hue + rng.uniform(-0.06, 0.06)
    scale = float(min(w, h))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = (xs + 0.5) / w, (ys + 0.5) / h
    horizon = rng.uniform(0.52, 0.68)

    top = _hsv(hue + rng.uniform(-0.04, 0.04), rng.uniform(0.45, 0.8), theme.value * rng.uniform(0.55, 0.8))
    low = _hsv(hue + rng.uniform(-0.12, 0.12), rng.uniform(0.15, 0.45), theme.value)
    t = np.clip(v / horizon, 0.0, 1.0) ** rng.uniform(0.7, 1.5)
    canvas = top[None, None, :] + (low - top)[None, None, :] * t[:, :, None]

    for _ in range(int(rng.integers(3, 7))):  # soft coloured clouds of light
        cx, cy = rng.uniform(0.0, 1.0) * w, rng.uniform(0.0, horizon) * h
        radius = rng.uniform(0.15, 0.45) * scale
        blob = np.exp(-(((xs - cx) ** 2 + ((ys - cy) * rng.uniform(1.0, 2.5)) ** 2) / radius**2))
        color = _hsv(hue + rng.uniform(-0.2, 0.2), rng.uniform(0.2, 0.6), min(1.0, theme.value * 1.1))
        _blend(canvas, color, blob * rng.uniform(0.25, 0.55))

    if theme.stars:
        stars = rng.random((h, w)) > 0.985
        _blend(canvas, np.ones(3), stars * (v < horizon) * rng.uniform(0.4, 0.9, (h, w)))

    if theme.sun:
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.18, horizon * 0.85) * h
        dist = np.hypot(xs - cx, ys - cy) / scale
        radius = rng.uniform(0.06, 0.12)
        sun = _hsv(hue + 0.5 if theme.stars else 0.1 + rng.uniform(-0.05, 0.05), 0.25, 1.0)
        _blend(canvas, sun, 0.45 * np.exp(-((dist / (radius * 3.0)) ** 2)))
        _blend(canvas, sun, np.clip((radius - dist) * scale + 0.5, 0.0, 1.0))

    _ground(canvas, u, v, horizon, hue, theme, rng, h)

    vignette = 1.0 - rng.uniform(0.15, 0.35) * ((u - 0.5) ** 2 + (v - 0.5) ** 2) * 2.0
    canvas *= vignette[:, :, None]
    return np.asarray(np.clip(canvas * 255.0 + 0.5, 0, 255), dtype=np.uint8)


def _ground(
    canvas: Array, u: Array, v: Array, horizon: float, hue: float, theme: _Theme, rng: np.random.Generator, h: int
) -> None:
    """Layered silhouettes from far (hazy, light) to near (saturated, dark): atmospheric perspective."""
    layers = int(rng.integers(2, 5))
    haze = canvas[int(horizon * (h - 1)), :, :].mean(axis=0)
    ground_hue = hue + rng.uniform(0.15, 0.35) * rng.choice([-1.0, 1.0])
    if theme.ground_hue is not None:
        ground_hue = theme.ground_hue
    if theme.ground == "water":  # water mirrors the sky
        ground_hue = hue + rng.uniform(-0.03, 0.03)
    edge = 1.0 / h  # a one-pixel soft edge at low resolution, blurred further by the upscale
    for k in range(layers):
        depth = (k + 1) / layers
        base = horizon + (1.0 - horizon) * 0.55 * (k / layers) - 0.04
        profile = _profile(theme.ground, u[0], rng, depth) + base
        color = _hsv(ground_hue + rng.uniform(-0.03, 0.03), 0.25 + 0.45 * depth, theme.value * (0.85 - 0.5 * depth))
        color = haze * (1.0 - depth) * 0.6 + color * (1.0 - (1.0 - depth) * 0.6)
        alpha = np.clip((v - profile[None, :]) / edge + 0.5, 0.0, 1.0)
        if theme.ground == "water":
            ripples = np.sin(v * rng.uniform(50, 90) + np.sin(u * rng.uniform(8, 16)) * 2.0 + rng.uniform(0, 6.28))
            _blend(canvas, color, alpha * 0.9)
            canvas += (ripples * alpha * (0.015 + 0.12 * (v - horizon)))[:, :, None]
            break  # one calm plane of water below the horizon
        _blend(canvas, color, alpha)


def _profile(kind: str, x: Array, rng: np.random.Generator, depth: float) -> Array:
    """Height (as a fraction of the frame, smaller is higher) of one silhouette across normalised x."""
    if kind == "water":
        return np.zeros_like(x) + 0.04
    if kind == "city":
        count = int(rng.integers(8, 20))
        edges = np.sort(rng.uniform(0.0, 1.0, count))
        heights = rng.uniform(0.05, 0.25, count + 1) * (1.2 - depth * 0.6)
        return -heights[np.searchsorted(edges, x)]
    out = np.zeros_like(x)
    octaves = 3 if kind == "mountains" else 2
    for octave in range(octaves):
        freq = rng.uniform(0.6, 1.6) * (2.2**octave) if kind == "mountains" else rng.uniform(1.5, 3.5) * 2**octave
        amp = (0.12 if kind == "mountains" else 0.05) / (2.2**octave)
        wave = np.sin(2.0 * np.pi * freq * x + rng.uniform(0.0, 2.0 * np.pi))
        out += amp * (2.0 * np.abs(wave) - 1.0 if kind == "mountains" else wave)  # |sin| gives sharp peaks
    return out - (0.08 if kind == "mountains" else 0.02) * (1.0 - depth)
