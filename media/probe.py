"""Probing media without ffprobe.

The imageio-ffmpeg build ships no ffprobe, so ``probe`` parses the header ffmpeg prints for ``ffmpeg -i <file>``.
That header is good for codecs, sizes and rates but its durations are container-level and rounded to 10 ms, so
``stream_durations`` decodes each stream and counts frames and samples instead: that is exact, and it is what
tells us that audio and video of the final MP4 really line up. ``loudness`` measures what a listener gets (EBU R128
integrated loudness and true peak), which is how we check the -16 LUFS / -1 dBTP target.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import RenderError
from media.ffmpeg import file_arg, run, run_unchecked, stderr_tail


@dataclass(frozen=True)
class VideoStream:
    """The first video stream: what a concat or a player cares about."""

    codec: str
    width: int
    height: int
    fps: float
    pix_fmt: str


@dataclass(frozen=True)
class AudioStream:
    """The first audio stream."""

    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class MediaInfo:
    """What ``ffmpeg -i`` says about a file; ``duration`` is the container's (0.0 when it reports N/A)."""

    duration: float
    video: VideoStream | None
    audio: AudioStream | None
    size_bytes: int


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (Video|Audio): (.*)$", re.MULTILINE)
_SIZE = re.compile(r"^(\d+)x(\d+)")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_CHANNELS = re.compile(r"^(\d+) channels")
#: EBU R128 meter with true peak; per-100 ms frame logs go to "verbose" so only the summary reaches our stderr.
EBUR128 = "ebur128=peak=true:framelog=verbose"
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def _fields(description: str) -> list[str]:
    """Split a stream description at top-level commas (``yuv420p(tv, bt709)`` holds commas of its own)."""
    fields: list[str] = []
    depth, current = 0, ""
    for char in description:
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            fields.append(current.strip())
            current = ""
        else:
            current += char
    fields.append(current.strip())
    return fields


def _video(description: str) -> VideoStream:
    fields = _fields(description)
    codec = fields[0].split()[0]
    pix_fmt = fields[1].split("(")[0].strip() if len(fields) > 1 else ""
    width = height = 0
    fps = 0.0
    for field in fields[1:]:
        if (size := _SIZE.match(field)) and not width:
            width, height = int(size[1]), int(size[2])
        rate = _RATE.match(field)
        if rate and (rate[3] == "fps" or not fps):  # "fps" is the stream's own rate; "tbr" only a guess
            fps = float(rate[1]) * (1000 if rate[2] else 1)
    return VideoStream(codec=codec, width=width, height=height, fps=fps, pix_fmt=pix_fmt)


def _audio(description: str) -> AudioStream:
    fields = _fields(description)
    codec = fields[0].split()[0]
    rate, channels = 0, 0
    for field in fields[1:]:
        if field.endswith(" Hz"):
            rate = int(field.split()[0])
        elif match := _CHANNELS.match(field):
            channels = int(match[1])
        elif not channels and field.split("(")[0] in _LAYOUTS:
            channels = _LAYOUTS[field.split("(")[0]]
    return AudioStream(codec=codec, sample_rate=rate, channels=channels)


def parse_probe(stderr: str, size_bytes: int = 0) -> MediaInfo:
    """Parse the ``Input #0`` header that ``ffmpeg -i`` prints (split out so tests can feed it text)."""
    duration = 0.0
    if match := _DURATION.search(stderr):
        duration = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])
    video: VideoStream | None = None
    audio: AudioStream | None = None
    for kind, description in _STREAM.findall(stderr):
        if kind == "Video" and video is None and "(attached pic)" not in description:  # cover art is no video
            video = _video(description)
        elif kind == "Audio" and audio is None:
            audio = _audio(description)
    return MediaInfo(duration=duration, video=video, audio=audio, size_bytes=size_bytes)


def probe(path: Path | str) -> MediaInfo:
    """Describe a media file; raises ``RenderError`` with ffmpeg's reason when it cannot be opened."""
    path = Path(path)
    _, stderr = run_unchecked(["-i", file_arg(path)], what=f"probe {path.name}")
    if "Input #0" not in stderr:
        raise RenderError(f"probe {path.name} failed: {stderr_tail(stderr)}")
    return parse_probe(stderr, path.stat().st_size)


def _last_int(pattern: str, text: str) -> int:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else 0


def stream_durations(path: Path | str) -> tuple[float, float]:
    """Seconds of (video, audio) as decoded: frames / fps and samples / rate, 0.0 for a missing stream.

    Decoding honours edit lists (AAC priming, B-frame delay), so this is what a player plays, exact to the frame
    and to the sample, unlike the container's ``Duration`` line.
    """
    path = Path(path)
    info = probe(path)
    video_s = audio_s = 0.0
    if info.video is not None:
        stderr = run(["-i", file_arg(path), "-map", "0:v:0", "-f", "null", "-"], what=f"count frames of {path.name}")
        frames = _last_int(r"frame=\s*(\d+)", stderr)
        video_s = frames / info.video.fps if info.video.fps else 0.0
    if info.audio is not None:
        stderr = run(
            ["-nostats", "-i", file_arg(path), "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"],
            what=f"count samples of {path.name}",
        )
        samples = _last_int(r"n_samples:\s*(\d+)", stderr)
        if info.audio.sample_rate and info.audio.channels:
            audio_s = samples / info.audio.channels / info.audio.sample_rate
    return video_s, audio_s


def _last_float(pattern: str, text: str) -> float:
    found = re.findall(pattern, text)
    if not found:
        return math.nan
    value: str = found[-1]
    return -math.inf if value == "-inf" else float(value)


def parse_ebur128(stderr: str) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) from the summary the ``ebur128=peak=true`` filter prints at the end."""
    summary = stderr[stderr.rfind("Summary:") :]
    integrated = _last_float(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = _last_float(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if math.isnan(integrated) or math.isnan(peak):
        raise RenderError("loudness measurement failed: no EBU R128 summary in ffmpeg's output")
    return integrated, peak


def loudness(path: Path | str) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of the first audio stream, per EBU R128.

    Silence reads as -70 LUFS (the absolute gate) and a -inf peak.
    """
    path = Path(path)
    stderr = run(
        ["-nostats", "-i", file_arg(path), "-map", "0:a:0", "-af", EBUR128, "-f", "null", "-"],
        what=f"measure loudness of {path.name}",
    )
    return parse_ebur128(stderr)


def probe_decodable(path: Path | str) -> MediaInfo:
    """Probe a file from outside (a caller's still or clip) and decode its first frame with errors fatal.

    ``ffmpeg -i`` alone trusts a header: a truncated or corrupt file with a valid-looking start passes it, and
    would only fail mid-render. Decoding one frame with ``-xerror`` catches those before the file is used.
    """
    info = probe(path)
    if info.video is None:
        raise RenderError(f"{Path(path).name} has no picture")
    run(["-v", "error", "-xerror", "-i", file_arg(Path(path)), "-frames:v", "1", "-f", "null", "-"],
        what=f"decode {Path(path).name}")
    return info
