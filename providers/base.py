"""What every provider returns, and the protocols tasks call.

Providers do the side effects (vendor calls, local rendering) and nothing else: no Prefect, no retries of their own.
They raise only from :mod:`core.errors` (``RetryableProviderError`` / ``FatalProviderError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from media.captions import Word


@dataclass(frozen=True)
class ImageRequest:
    """One still to generate."""

    prompt: str
    width: int
    height: int
    seed: int
    aspect_ratio: str


@dataclass(frozen=True)
class Speech:
    """Narration audio (WAV bytes) with per-word timings in seconds from its start."""

    wav: bytes
    words: list[Word]
    duration: float
    rendered_by: str


@dataclass(frozen=True)
class ClipRequest:
    """One image-to-video clip to generate from a still."""

    image: Path
    prompt: str
    duration: float
    width: int
    height: int
    fps: int
    motion_index: int
    aspect_ratio: str = "16:9"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MusicRequest:
    """A background track to compose: a mood (``core.styles.MOODS`` without "none"), about ``seconds`` long.

    Providers may return a shorter track than asked (vendors cap lengths); ``media.music_fit.fit_track`` loops or
    trims whatever comes back to the video's exact length."""

    mood: str
    seconds: float
    seed: int


class ImageProvider(Protocol):
    name: str

    def generate(self, request: ImageRequest) -> bytes:
        """PNG (or JPEG) bytes of the still."""
        ...


class SpeechProvider(Protocol):
    name: str

    def synthesize(self, text: str, voice: str) -> Speech:
        """Narration for one scene."""
        ...


class VideoProvider(Protocol):
    name: str

    def animate(self, request: ClipRequest, out: Path) -> Path:
        """Write an MP4 clip of ``request.duration`` seconds to ``out``."""
        ...


class MusicProvider(Protocol):
    name: str

    def compose(self, request: MusicRequest) -> bytes:
        """An audio file (WAV, MP3, ...: anything ffmpeg decodes) of background music in the mood."""
        ...
