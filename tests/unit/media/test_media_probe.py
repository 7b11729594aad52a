"""Probing without ffprobe: header parsing, exact stream durations, loudness, and errors that carry ffmpeg's words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import RenderError
from media.ffmpeg import run
from media.probe import AudioStream, VideoStream, loudness, parse_probe, probe, stream_durations

MakeSpeech = Callable[..., Path]
MakeStill = Callable[[Path, tuple[int, int]], Path]

MP4_HEADER = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'final.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:01:02.37, start: 0.000000, bitrate: 1234 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1280x720 \
[SAR 1:1 DAR 16:9], 1121 kb/s, 29.97 fps, 29.97 tbr, 30k tbn (default)
    Metadata:
      handler_name    : VideoHandler
  Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, 5.1(side), fltp, 103 kb/s (default)
  Stream #0:2[0x3](und): Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 300x300, 90k tbn \
(attached pic)
At least one output file must be specified
"""

WAV_HEADER = """[aist#0:0/pcm_s16le @ 0x55c2cf31c0c0] Guessed Channel Layout: mono
Input #0, wav, from 'tone.wav':
  Duration: 00:00:02.30, bitrate: 353 kb/s
  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 22050 Hz, mono, s16, 352 kb/s
"""

IMAGE_HEADER = """Input #0, png_pipe, from 'in.png':
  Duration: N/A, bitrate: N/A
  Stream #0:0: Video: png, rgb24(pc, gbr/unknown/unknown), 1536x1024, 25 fps, 25 tbr, 25 tbn
"""


def test_parse_mp4_header() -> None:
    info = parse_probe(MP4_HEADER, 42)
    assert info.duration == pytest.approx(62.37)
    assert info.size_bytes == 42
    assert info.video == VideoStream(codec="h264", width=1280, height=720, fps=29.97, pix_fmt="yuv420p")
    assert info.audio == AudioStream(codec="aac", sample_rate=48000, channels=6)


def test_parse_wav_and_image_headers() -> None:
    wav = parse_probe(WAV_HEADER)
    assert wav.duration == pytest.approx(2.3)
    assert wav.video is None
    assert wav.audio == AudioStream(codec="pcm_s16le", sample_rate=22050, channels=1)
    image = parse_probe(IMAGE_HEADER)
    assert (image.duration, image.audio) == (0.0, None)
    assert image.video == VideoStream(codec="png", width=1536, height=1024, fps=25.0, pix_fmt="rgb24")


def test_probe_real_files(tmp_path: Path, make_speech: MakeSpeech, make_still: MakeStill) -> None:
    wav = probe(make_speech(tmp_path / "v.wav", 1.5, rate=24000))
    assert wav.audio == AudioStream(codec="pcm_s16le", sample_rate=24000, channels=1)
    assert wav.duration == pytest.approx(1.5, abs=0.01)
    assert wav.size_bytes == (tmp_path / "v.wav").stat().st_size
    image = probe(make_still(tmp_path / "s.png", (200, 100)))
    assert image.video is not None and (image.video.width, image.video.height) == (200, 100)


def test_stream_durations_count_frames_and_samples(tmp_path: Path, make_speech: MakeSpeech) -> None:
    clip = tmp_path / "av.mp4"
    run(
        ["-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2", "-f", "lavfi", "-i", "sine=r=48000:d=1.5"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(clip)],
        what="make clip",
    )
    video_s, audio_s = stream_durations(clip)
    assert video_s == pytest.approx(2.0)
    assert audio_s == pytest.approx(1.5, abs=1 / 48000)
    no_video, voice_s = stream_durations(make_speech(tmp_path / "v.wav", 0.75, rate=16000))
    assert (no_video, voice_s) == (0.0, 0.75)  # 12000 samples at 16 kHz: exact


def test_loudness_of_a_tone(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    run(["-f", "lavfi", "-i", "sine=f=1000:r=48000:d=3", "-af", "volume=0.5", str(tone)], what="make tone")
    integrated, peak = loudness(tone)
    # a 1 kHz sine at -24.1 dBFS peak (sine's default 1/8 amplitude, halved) reads about -27.1 LUFS mono
    assert integrated == pytest.approx(-27.1, abs=0.5)
    assert peak == pytest.approx(-24.1, abs=0.3)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"garbage that is not a container", "Invalid data found when processing input"), (None, "No such file")],
)
def test_probe_errors_carry_ffmpegs_message(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "broken.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RenderError, match=f"(?s)^probe broken.mp4 failed: .*{reason}"):
        probe(path)


def test_run_raises_with_the_tail_of_stderr() -> None:
    with pytest.raises(RenderError) as caught:
        run(["-f", "lavfi", "-i", "nullsrc", "-vf", "nosuchfilter", "-f", "null", "-"], what="odd graph")
    message = str(caught.value)
    assert message.startswith("odd graph failed:")
    assert "nosuchfilter" in message
    assert len(message.splitlines()) <= 16
