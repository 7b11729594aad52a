"""One scene's picture: a still with Ken Burns motion, or a generated clip, normalised for stream-copy concat.

Every clip leaves here with the same codec settings (H.264 High, yuv420p, CFR, same size and time base, video
only), because ``media.assemble`` joins clips by stream copy and that only works when their parameters match.

Motion uses the ``perspective`` filter rather than ``zoompan``: zoompan crops at whole pixels of its input, so a
slow zoom or pan visibly jitters (we measured the frame-to-frame step of a tracked point varying by ~200 % of its
mean on a plain zoompan, ~40 % even on a 4x upscale). perspective samples the still at sub-pixel positions
(bilinear, per-frame coordinates): ~5 %, i.e. smooth, for about the CPU of the 4x-upscale zoompan (~25 % more
than a plain one). The still is cover-cropped to the output aspect once with lanczos and repeated with ``loop``;
decoding it per frame would waste time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import ffmpeg  # type: ignore[import-untyped,unused-ignore]

from core.errors import RenderError
from media.captions import caption_font
from media.ffmpeg import atomic_output, file_arg, run
from media.timing import frame_count

Motion = Literal["zoom_in", "zoom_out", "pan_left", "pan_right"]

#: The order scenes cycle through: alternate zooms with pans so consecutive scenes never move alike.
MOTION_CYCLE: tuple[Motion, ...] = ("zoom_in", "pan_right", "zoom_out", "pan_left")
#: Zoom range of zoom_in/zoom_out: enough to feel alive, little enough not to lose the picture's edges.
MAX_ZOOM = 1.15
#: Zoom held during pans: the slack (1 - 1/zoom of the width) is the distance travelled.
PAN_ZOOM = 1.12
#: x264 quality (its default): motion-softened stills look clean at 720p; lower costs size more than time.
CRF = 23


def motion_for(index: int) -> Motion:
    """The motion of scene ``index`` (0-based): cycles through ``MOTION_CYCLE``."""
    return MOTION_CYCLE[index % len(MOTION_CYCLE)]


def _corners(motion: Motion, width: int, height: int, frames: int) -> dict[str, str]:
    """perspective source-corner expressions (sense=source: where each output corner samples the still).

    Zoom is geometric (z0 * (z1/z0)^p) so it looks steady rather than slowing down; ``on`` is the output frame
    number and p runs 0..1 over the clip.
    """
    if motion not in get_args(Motion):
        raise RenderError(f"unknown motion {motion!r}")
    p = f"(on/{max(frames - 1, 1)})"
    if motion in ("zoom_in", "zoom_out"):
        z0, z1 = (1.0, MAX_ZOOM) if motion == "zoom_in" else (MAX_ZOOM, 1.0)
        zoom = f"({z0}*pow({z1 / z0:.6f},{p}))"
        cx, cy = f"{width / 2}", f"{height / 2}"
    else:
        zoom = f"{PAN_ZOOM}"
        half_slack = (width - width / PAN_ZOOM) / 2
        direction = 1 if motion == "pan_right" else -1
        cx, cy = f"({width / 2}+{direction * half_slack:.4f}*(2*{p}-1))", f"{height / 2}"
    half_w, half_h = f"({width / 2}/{zoom})", f"({height / 2}/{zoom})"
    left, right, top, bottom = f"{cx}-{half_w}", f"{cx}+{half_w}", f"{cy}-{half_h}", f"{cy}+{half_h}"
    return {"x0": left, "y0": top, "x1": right, "y1": top, "x2": left, "y2": bottom, "x3": right, "y3": bottom}


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


def _encode(stream: Any, out: Path, *, fps: int, frames: int, preset: str) -> Any:
    """Identical x264 settings for every clip, so concat can stream-copy them; ``-frames:v`` pins the length."""
    tagged = stream.filter("format", "yuv420p").filter(
        "setparams", range="tv", color_primaries="bt709", color_trc="bt709", colorspace="bt709"
    )
    return tagged.output(
        file_arg(out),
        an=None,
        sn=None,
        vcodec="libx264",
        preset=preset,
        crf=CRF,
        pix_fmt="yuv420p",
        **{"profile:v": "high", "frames:v": frames},
        r=fps,
        fps_mode="cfr",
        video_track_timescale=fps * 1000,
    )


def _check_args(duration: float, width: int, height: int, fps: int) -> int:
    frames = frame_count(duration, fps)
    if frames < 1 or width < 2 or height < 2 or width % 2 or height % 2 or fps <= 0:
        raise RenderError(f"bad clip geometry: {duration}s {width}x{height}@{fps} (sizes must be even)")
    return frames


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
    preset: str = "veryfast",
    fade: float = 0.0,
) -> Path:
    """Render a still as a video-only H.264 clip of exactly ``round(duration*fps)`` frames with Ken Burns motion.

    Captions in ``ass`` (scene-relative times, frame-pixel layout) are burned in with libass after the motion,
    so they stay put while the picture moves. ``fade`` > 0 fades the clip in and out through black.
    """
    image, frames = Path(image), _check_args(duration, width, height, fps)
    still = _cover(ffmpeg.input(file_arg(image)).video, width, height)
    moving = (
        still.filter("format", "yuv420p")
        .filter("loop", loop=frames - 1, size=1, start=0)
        .filter("settb", f"1/{fps}")
        .filter("setpts", "N")
        .filter(
            "perspective",
            interpolation="linear",
            sense="source",
            eval="frame",
            **_corners(motion, width, height, frames),
        )
    )
    with atomic_output(out) as tmp:
        shown = _fade(_captions(moving, ass), fade, frames, fps)
        run(_encode(shown, tmp, fps=fps, frames=frames, preset=preset), what=f"render {image.name}")
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
    preset: str = "veryfast",
    fade: float = 0.0,
) -> Path:
    """Normalise a generated video clip: cover-crop to size, force ``fps``, trim or hold its last frame to exactly
    ``duration``, burn captions, drop any audio (the narration track is built separately); ``fade`` as for stills."""
    source, frames = Path(source), _check_args(duration, width, height, fps)
    clip = ffmpeg.input(file_arg(source)).video.filter("setpts", "PTS-STARTPTS").filter("fps", fps)
    clip = _cover(clip, width, height).filter("tpad", stop_mode="clone", stop_duration=f"{duration:.6f}")
    with atomic_output(out) as tmp:
        shown = _fade(_captions(clip, ass), fade, frames, fps)
        run(_encode(shown, tmp, fps=fps, frames=frames, preset=preset), what=f"render {source.name}")
    return Path(out)
