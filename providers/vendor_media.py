"""Bytes in and out of vendors: WAV parsing and wrapping, word timings for TTS without timestamps, image encodings.

Why these exist: vendors answer in formats that are almost what the pipeline wants. OpenAI's streamed WAV may carry
placeholder chunk sizes, ElevenLabs sends raw PCM, image models send PNG, JPEG or WebP at their own sizes, and
image-to-video models want the start frame as a small data URL. Everything leaves here as the pipeline's formats:
mono 16-bit WAV with exact length, PNG stills, and word timings clamped inside the audio.
"""

from __future__ import annotations

import base64
import io
import struct
import wave
from pathlib import Path

import numpy as np
from PIL import Image

from media.captions import Word
from providers.local.word_timing import proportional_words

#: Replicate accepts inline data URLs for small files only; the start frame is re-encoded to stay under this.
DATA_URL_LIMIT = 256 * 1024


def parse_wav(data: bytes) -> tuple[bytes, int, int, int]:
    """``(pcm, sample_rate, channels, sample_width)`` of a RIFF/WAVE file.

    Tolerates the placeholder sizes streaming encoders write (0xFFFFFFFF or 0): the data chunk then runs to the end.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body:body + 16])
            fmt = (rate, channels, bits // 8)
        elif chunk == b"data":
            if fmt is None:
                raise ValueError("WAV data before its format chunk")
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            return data[body:end], fmt[0], fmt[1], fmt[2]
        pos = body + size + (size & 1)
    raise ValueError("WAV file without a data chunk")


def mono16(pcm: bytes, channels: int, width: int) -> bytes:
    """16-bit mono samples from 16-bit PCM with any channel count (other widths are refused)."""
    if width != 2:
        raise ValueError(f"{8 * width}-bit audio is not supported")
    samples = np.frombuffer(pcm[: len(pcm) // (2 * channels) * 2 * channels], dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return samples.tobytes()


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """A clean mono 16-bit WAV around ``pcm``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def voiced_span(pcm: bytes, sample_rate: int, threshold: float = 0.02) -> tuple[float, float]:
    """Where speech starts and ends (first/last 10 ms window louder than ``threshold`` of full scale)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    window = max(1, sample_rate // 100)
    count = len(samples) // window
    if count == 0:
        return 0.0, len(samples) / sample_rate
    rms = np.sqrt((samples[: count * window].reshape(count, window) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > threshold)
    if loud.size == 0:
        return 0.0, count * window / sample_rate
    return float(loud[0] * window / sample_rate), float((loud[-1] + 1) * window / sample_rate)


def estimated_words(text: str, pcm: bytes, sample_rate: int) -> list[Word]:
    """Word timings for a TTS that gives none (OpenAI): the words share the voiced span by their length.

    Captions group a few words per cue, so a proportional estimate inside the real speech span reads well; vendors
    that return alignments (ElevenLabs) use :func:`words_from_characters` instead.
    """
    tokens = text.split()
    if not tokens:
        return []
    start, end = voiced_span(pcm, sample_rate)
    return proportional_words(tokens, start, end)


def words_from_characters(characters: list[str], starts: list[float], ends: list[float], duration: float) -> list[Word]:
    """Word timings from a per-character alignment: a word runs from its first character's start to its last's end."""
    words: list[Word] = []
    current, first, last = "", 0.0, 0.0
    for char, start, end in zip(characters, starts, ends, strict=False):
        if char.isspace():
            if current:
                words.append(Word(current, first, last))
            current = ""
            continue
        if not current:
            first = start
        current += char
        last = end
    if current:
        words.append(Word(current, first, last))
    return [Word(w.text, round(min(w.start, duration), 3), round(min(max(w.end, w.start), duration), 3))
            for w in words]


def as_png(data: bytes) -> bytes:
    """The image as PNG (vendors may send JPEG or WebP); PNG input is returned untouched."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
    except (OSError, ValueError) as exc:
        raise ValueError(f"not an image ({type(exc).__name__})") from exc
    return buffer.getvalue()


def image_data_url(path: Path, limit: int = DATA_URL_LIMIT) -> str:
    """The still as a JPEG data URL under ``limit`` bytes (quality, then size, stepped down until it fits)."""
    with Image.open(path) as source:
        image = source.convert("RGB")
    for scale in (1.0, 0.75, 0.5, 0.35):
        sized = image if scale == 1.0 else image.resize((max(2, int(image.width * scale)),
                                                         max(2, int(image.height * scale))))
        for quality in (90, 80, 70):
            buffer = io.BytesIO()
            sized.save(buffer, format="JPEG", quality=quality)
            if buffer.tell() * 4 // 3 + 32 <= limit:
                return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def jpeg_bytes(path: Path, quality: int = 90) -> bytes:
    """The still as JPEG bytes (vendors that take inline image bytes, e.g. Veo, accept JPEG and it is small)."""
    with Image.open(path) as source:
        buffer = io.BytesIO()
        source.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


#: Text-to-music prompts per mood: instrumental beds that leave room for a voice (no vocals, no lead melody).
MUSIC_PROMPTS = {
    "calm": "calm ambient background music, soft warm pads, gentle piano, slow tempo, relaxing",
    "uplifting": "uplifting background music, bright piano and acoustic guitar, steady upbeat rhythm, hopeful",
    "dramatic": "dramatic cinematic background music, low string ostinato, deep drums, building tension",
    "playful": "playful background music, pizzicato strings and marimba, bouncy light rhythm, fun",
    "dark": "dark ominous ambient background music, low drones, slow heartbeat pulse, mysterious",
}


def music_prompt(mood: str) -> str:
    """The prompt for a mood (one of :data:`MUSIC_PROMPTS`); every one asks for an instrumental bed."""
    return f"{MUSIC_PROMPTS[mood]}, instrumental, no vocals, suitable under a voice-over"
