"""One scene's picture: a still with Ken Burns motion, or a generated clip, normalised for stream-copy concat.

Every clip leaves here with the same codec settings (H.264 High, yuv420p, CFR, same size and time base, video
only), because ``media.assemble`` joins clips by stream copy and that only works when their parameters match.

A still becomes its scene in one encode: the still is cover-cropped to the output (lanczos, BT.709) once, the
motion is made frame by frame in ``media.motion`` and piped raw into the one ffmpeg that burns the captions, fades
and encodes. A generated clip (a vendor's) gets the same captions, fades and encode in one pass of its own.
x264 threads: each ffmpeg gets ``threads`` (default: the cores shared by the renders a flow runs at once), since
four renders each starting a thread per core only add switching on a small machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2  # type: ignore[import-untyped,unused-ignore]
import ffmpeg  # type: ignore[import-untyped,unused-ignore]
import numpy as np

from core.errors import RenderError
from media.captions import caption_font
from media.ffmpeg import atomic_output, file_arg, run, run_fed, run_output
from media.motion import MAX_ZOOM, MOTION_CYCLE, PAN_ZOOM, Motion, motion_for, moving_frames
from media.timing import frame_count

__all__ = ["MAX_ZOOM", "MOTION_CYCLE", "PAN_ZOOM", "Motion", "motion_for", "render_still_clip", "render_video_clip"]

#: x264 quality (its default) for x264's own presets: motion-softened stills look clean at 720p.
CRF = 23
#: Our own preset, the default (``REELFLOW_X264_PRESET=reelflow``): x264's ``ultrafast`` with the tools that pay for
#: themselves on a slow Ken-Burns move added back (CABAC, deblocking, 8x8 transforms, three B-frames), at CRF 24.
#: Measured on three narrative scenes against their raw frames (``benchmarks/RESULTS.md``): SSIM 0.99671 vs 0.99653
#: and PSNR 52.8 vs 50.1 dB for ``veryfast`` at CRF 23, at half its CPU (3.9 vs 7.9 ms a frame), files 32 % bigger.
#: Six B-frames were smaller still but made the motion judder (the smoothness test caught it); three do not.
TUNED_PRESET = "reelflow"
TUNED: dict[str, object] = {
    "preset": "ultrafast", "crf": 24,
    "x264-params": "cabac=1:deblock=1,0,0:8x8dct=1:partitions=i8x8,i4x4:bframes=3:b-adapt=0",
}
#: The colour every clip is tagged with (limited-range BT.709), so clips stay concat-compatible.
BT709 = {"range": "tv", "color_primaries": "bt709", "color_trc": "bt709", "colorspace": "bt709"}
#: Renders a flow runs at once (its task runner's workers): each ffmpeg's share of the cores is cores / this.
CONCURRENT_RENDERS = 4


def default_threads() -> int:
    """x264 threads per render: the machine's cores shared by the renders running at once, at least one."""
    return max(1, (os.cpu_count() or 1) // CONCURRENT_RENDERS)


def _cover(stream: Any, width: int, height: int) -> Any:
    """Scale to cover the frame (lanczos), centre-crop the overflow, square pixels: any input aspect fits.

    Also converts to limited-range BT.709 whatever the source was (JPEGs decode full-range, RGB would otherwise get
    BT.601), so every clip carries the same colour and stays concat-compatible.
    """
    return (
        stream.filter(
            "scale",
            width,
            height,
            force_original_aspect_ratio="increase",
            flags="lanczos",
            out_color_matrix="bt709",
            out_range="tv",
        )
        .filter("crop", width, height)
        .filter("setsar", 1)
    )


def _fade(stream: Any, fade: float, frames: int, fps: int) -> Any:
    """Fade in from and out to black over ``fade`` seconds at both ends of the clip (0: a hard cut).

    Transitions through black are made per clip so the clips still join by stream copy; a crossfade between
    neighbours would need the joined film re-encoded (measured: twice the cost of a single filter graph).
    """
    span = min(round(fade * fps), frames // 2)
    if span < 1:
        return stream
    return stream.filter("fade", type="in", start_frame=0, nb_frames=span).filter(
        "fade", type="out", start_frame=frames - span, nb_frames=span
    )


def _captions(stream: Any, ass: Path | None) -> Any:
    if ass is None:
        return stream
    font = caption_font()
    return stream.filter("subtitles", filename=file_arg(ass), fontsdir=file_arg(font.directory))


def _encode(stream: Any, out: Path, *, fps: int, frames: int, preset: str, threads: int | None) -> Any:
    """Identical x264 settings for every clip, so concat can stream-copy them; ``-frames:v`` pins the length."""
    tagged = stream.filter("format", "yuv420p").filter("setparams", **BT709)
    x264 = dict(TUNED) if preset == TUNED_PRESET else {"preset": preset, "crf": CRF}
    return tagged.output(
        file_arg(out),
        an=None,
        sn=None,
        vcodec="libx264",
        **x264,
        pix_fmt="yuv420p",
        **{"profile:v": "high", "frames:v": frames},
        r=fps,
        fps_mode="cfr",
        video_track_timescale=fps * 1000,
        threads=default_threads() if threads is None else threads,
    )


def _check_args(duration: float, width: int, height: int, fps: int) -> int:
    frames = frame_count(duration, fps)
    if frames < 1 or width < 2 or height < 2 or width % 2 or height % 2 or fps <= 0:
        raise RenderError(f"bad clip geometry: {duration}s {width}x{height}@{fps} (sizes must be even)")
    return frames


#: RGB (0-255) to limited-range BT.709 Y'CbCr: rows Y, Cb, Cr; the last column is the offset.
_RGB_TO_BT709 = np.array([
    [0.2126 * 219 / 255, 0.7152 * 219 / 255, 0.0722 * 219 / 255, 16.0],
    [-0.2126 / 1.8556 * 224 / 255, -0.7152 / 1.8556 * 224 / 255, 0.5 * 224 / 255, 128.0],
    [0.5 * 224 / 255, -0.7152 / 1.5748 * 224 / 255, -0.0722 / 1.5748 * 224 / 255, 128.0],
])


def _exact_still(image: Path, width: int, height: int) -> bytes | None:
    """The still as one raw yuv420p frame made in this process when it already has the frame's size (the local
    renderer's stills always do): decode, one colour matrix, 2x2 chroma averages (luma within one level of ffmpeg's,
    chroma box- rather than lanczos-filtered). Saves an ffmpeg start per scene (~90 ms of CPU, measured). None when
    the picture needs scaling or OpenCV cannot read it: ffmpeg does it then."""
    pixels = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if pixels is None or pixels.shape[:2] != (height, width):
        return None
    rgb = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    ycc = cv2.transform(rgb, _RGB_TO_BT709)  # uint8 in, uint8 out (rounded, saturated)
    chroma = cv2.resize(ycc[:, :, 1:], (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    return b"".join((ycc[:, :, 0].tobytes(), chroma[:, :, 0].tobytes(), chroma[:, :, 1].tobytes()))


def _still_frame(image: Path, width: int, height: int) -> bytes:
    """The still cover-cropped to the frame as one raw yuv420p frame (BT.709, limited range), made once."""
    exact = _exact_still(image, width, height)
    if exact is not None:
        return exact
    still = _cover(ffmpeg.input(file_arg(image)).video, width, height).filter("format", "yuv420p")
    raw = run_output(still.output("pipe:1", format="rawvideo", pix_fmt="yuv420p", **{"frames:v": 1}),
                     what=f"render {image.name}")
    if len(raw) != width * height * 3 // 2:
        raise RenderError(f"render {image.name} failed: the still decoded to {len(raw)} bytes")
    return raw


def render_still_clip(
    image: Path,
    out: Path,
    *,
    duration: float,
    width: int,
    height: int,
    fps: int,
    motion: Motion,
    ass: Path | None,
    preset: str = TUNED_PRESET,
    fade: float = 0.0,
    threads: int | None = None,
) -> Path:
    """Render a still as a video-only H.264 clip of exactly ``round(duration*fps)`` frames with Ken Burns motion.

    Captions in ``ass`` (any ASS file with scene-relative times and frame-pixel layout, whatever style wrote it)
    are burned in after the motion, so they stay put while the picture moves. ``fade`` > 0 fades the clip in and
    out through black. Motion, captions, fades and the encode are one pass: the only encode of this scene.
    """
    image, frames = Path(image), _check_args(duration, width, height, fps)
    raw = _still_frame(image, width, height)
    source = ffmpeg.input("pipe:0", format="rawvideo", pix_fmt="yuv420p", s=f"{width}x{height}", framerate=fps)
    tagged = source.video.filter("setparams", **BT709)  # raw frames carry no colour tags; libass reads them
    with atomic_output(out) as tmp:
        shown = _fade(_captions(tagged, ass), fade, frames, fps)
        encode = _encode(shown, tmp, fps=fps, frames=frames, preset=preset, threads=threads)
        run_fed(encode, moving_frames(raw, motion, width, height, frames), what=f"render {image.name}")
    return Path(out)


def render_video_clip(
    source: Path,
    out: Path,
    *,
    duration: float,
    width: int,
    height: int,
    fps: int,
    ass: Path | None,
    preset: str = TUNED_PRESET,
    fade: float = 0.0,
    threads: int | None = None,
) -> Path:
    """Normalise a generated video clip: cover-crop to size, force ``fps``, trim or hold its last frame to exactly
    ``duration``, burn captions, drop any audio (the narration track is built separately); ``fade`` as for stills."""
    source, frames = Path(source), _check_args(duration, width, height, fps)
    clip = ffmpeg.input(file_arg(source)).video.filter("setpts", "PTS-STARTPTS").filter("fps", fps)
    clip = _cover(clip, width, height).filter("tpad", stop_mode="clone", stop_duration=f"{duration:.6f}")
    with atomic_output(out) as tmp:
        shown = _fade(_captions(clip, ass), fade, frames, fps)
        run(_encode(shown, tmp, fps=fps, frames=frames, preset=preset, threads=threads),
            what=f"render {source.name}")
    return Path(out)
