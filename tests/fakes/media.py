"""Real media bytes for the fakes: PNG stills (Pillow), speech-like PCM/WAV and music WAV (numpy), MP4 clips (our
ffmpeg graph)."""

from __future__ import annotations

import io
import tempfile
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

RATE = 24000


@lru_cache(maxsize=16)
def png(width: int, height: int, shade: int = 0) -> bytes:
    """A gradient still of the given size."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)),
                    np.full((height, width), (shade * 37) % 256, np.float32)], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def speech_pcm(text: str, rate: int = RATE) -> bytes:
    """Mono int16 PCM: 0.1 s silence, a tone burst per word (60 ms per letter) with 80 ms gaps, 0.1 s silence."""
    parts = [np.zeros(int(0.1 * rate))]
    for i, word in enumerate(text.split()):
        n = int(max(2, len(word)) * 0.06 * rate)
        t = np.arange(n) / rate
        parts += [0.3 * np.sin(2 * np.pi * (180 + 20 * (i % 5)) * t), np.zeros(int(0.08 * rate))]
    parts.append(np.zeros(int(0.1 * rate)))
    return (np.concatenate(parts) * 32767).astype("<i2").tobytes()


def wav(pcm: bytes, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


@lru_cache(maxsize=8)
def music_wav(seconds: int, rate: int = 22050) -> bytes:
    """A stereo 16-bit WAV of ``seconds``: an A minor chord swelling at 0.5 Hz (music-like, plainly not ours)."""
    t = np.arange(seconds * rate) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63)) / 3
    left = 0.4 * chord * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    pcm = (np.stack([left, 0.8 * left], axis=1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


@lru_cache(maxsize=8)
def mp4(seconds: float, width: int = 320, height: int = 180) -> bytes:
    """A real H.264 clip (our own still-clip graph at a small size), cached per length."""
    from media.scene import motion_for, render_still_clip

    with tempfile.TemporaryDirectory() as tmp:
        still = Path(tmp, "still.png")
        still.write_bytes(png(width, height))
        out = render_still_clip(still, Path(tmp, "clip.mp4"), duration=seconds, width=width, height=height, fps=24,
                                motion=motion_for(1), ass=None, preset="ultrafast")
        return out.read_bytes()
