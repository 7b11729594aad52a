"""Vendor audio and image bytes become the pipeline's formats."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image

from providers.vendor_media import as_png, image_data_url, parse_wav, words_from_characters
from tests.fakes import media


def test_streamed_wav_with_placeholder_sizes_is_read_to_the_end() -> None:
    pcm = media.speech_pcm("one two")
    good = media.wav(pcm)
    streamed = good[:4] + struct.pack("<I", 0xFFFFFFFF) + good[8:40] + struct.pack("<I", 0xFFFFFFFF) + good[44:]
    assert parse_wav(streamed) == (pcm, 24000, 1, 2)
    assert parse_wav(good) == (pcm, 24000, 1, 2)


def test_character_alignment_becomes_words() -> None:
    chars = list("Hi there")
    starts = [0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7]
    ends = [0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8]
    words = words_from_characters(chars, starts, ends, duration=0.75)
    assert [(w.text, w.start, w.end) for w in words] == [("Hi", 0.1, 0.3), ("there", 0.35, 0.75)]


def test_jpeg_becomes_png_and_large_stills_fit_in_a_data_url(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), "red").save(buffer, format="JPEG")
    assert as_png(buffer.getvalue())[:4] == b"\x89PNG"
    noisy = tmp_path / "noisy.png"
    Image.effect_noise((1920, 1080), 80).convert("RGB").save(noisy)
    assert len(image_data_url(noisy)) <= 256 * 1024
