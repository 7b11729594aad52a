"""Motion benchmark: CPU per frame and smoothness of the Ken-Burns candidates, x264 presets and thread counts.

Each candidate renders the same 10 s 720p30 clip from one still (a still of soft dots, so the same clip also
measures smoothness: ``tests.motion_track`` follows one dot and rates how evenly it moves per frame). CPU is user +
system time of ffmpeg and of this process (the Python-side warps), per frame. ``python -m benchmarks.motion_bench``
runs it alone; ``make bench`` includes it. Candidates:

- ``perspective``: the previous filter (sub-pixel bilinear, a projective transform per pixel);
- ``zoompan-4x``: zoompan over a 4x pre-scaled still (whole-pixel crops of the upscale);
- ``scale+crop``: per-frame ``scale`` (lanczos) to the zoomed size, then a centred ``crop`` (whole pixels);
- ``pillow-affine``: Pillow's bilinear affine transform of each yuv420p plane, frames piped raw;
- ``opencv-affine``: OpenCV's ``warpAffine`` of each plane, frames piped raw (``media.motion``, the chosen one).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ffmpeg  # type: ignore[import-untyped,unused-ignore]
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import scene  # noqa: E402
from media.ffmpeg import file_arg, run, run_fed  # noqa: E402
from media.motion import MAX_ZOOM, PAN_ZOOM, Motion, camera, moving_frames  # noqa: E402
from tests.motion_track import dot_still, gray_frames, track  # noqa: E402

W, H, FPS, SECONDS = 1280, 720, 30, 10.0
FRAMES = round(SECONDS * FPS)


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _zoom_expr(motion: Motion, frame: str) -> tuple[str, str]:
    """(zoom, centre x) as ffmpeg expressions of the frame number, the same path as ``media.motion.camera``."""
    p = f"({frame}/{FRAMES - 1})"
    if motion in ("zoom_in", "zoom_out"):
        z0, z1 = (1.0, MAX_ZOOM) if motion == "zoom_in" else (MAX_ZOOM, 1.0)
        return f"({z0}*pow({z1 / z0:.6f},{p}))", f"{W / 2}"
    half_slack = (W - W / PAN_ZOOM) / 2
    sign = 1 if motion == "pan_right" else -1
    return f"{PAN_ZOOM}", f"({W / 2}+{sign * half_slack:.4f}*(2*{p}-1))"


def _encode(stream: Any, out: Path, preset: str, threads: int | None) -> Any:
    return scene._encode(stream, out, fps=FPS, frames=FRAMES, preset=preset, threads=threads)


def _still(image: Path) -> Any:
    looped = scene._cover(ffmpeg.input(file_arg(image)).video, W, H).filter("format", "yuv420p")
    return looped.filter("loop", loop=FRAMES - 1, size=1, start=0).filter("settb", f"1/{FPS}").filter("setpts", "N")


def perspective(image: Path, out: Path, motion: Motion, preset: str, threads: int | None) -> None:
    zoom, cx = _zoom_expr(motion, "on")
    hw, hh = f"({W / 2}/{zoom})", f"({H / 2}/{zoom})"
    left, right, top, bottom = f"{cx}-{hw}", f"{cx}+{hw}", f"{H / 2}-{hh}", f"{H / 2}+{hh}"
    corners = {"x0": left, "y0": top, "x1": right, "y1": top, "x2": left, "y2": bottom, "x3": right, "y3": bottom}
    moved = _still(image).filter("perspective", interpolation="linear", sense="source", eval="frame", **corners)
    run(_encode(moved, out, preset, threads), what="perspective")


def zoompan_4x(image: Path, out: Path, motion: Motion, preset: str, threads: int | None) -> None:
    zoom, cx = _zoom_expr(motion, "on")
    big = scene._cover(ffmpeg.input(file_arg(image)).video, W, H).filter("scale", W * 4, H * 4, flags="lanczos")
    moved = big.filter("zoompan", z=zoom, x=f"({cx})*4-iw/zoom/2", y="ih/2-ih/zoom/2", d=FRAMES,
                       s=f"{W}x{H}", fps=FPS)
    run(_encode(moved, out, preset, threads), what="zoompan")


def scale_crop(image: Path, out: Path, motion: Motion, preset: str, threads: int | None) -> None:
    zoom, cx = _zoom_expr(motion, "n")
    sized = _still(image).filter("scale", w=f"ceil({W}*{zoom}/2)*2", h=f"ceil({H}*{zoom}/2)*2", eval="frame",
                                 flags="lanczos")
    moved = sized.filter("crop", W, H, x=f"({cx})*iw/{W}-{W / 2}", y=f"(ih-{H})/2")
    run(_encode(moved, out, preset, threads), what="scale+crop")


def _piped(frames: Callable[[bytes, Motion], Iterator[Any]]) -> Callable[..., None]:
    def render(image: Path, out: Path, motion: Motion, preset: str, threads: int | None) -> None:
        raw = scene._still_frame(image, W, H)
        source = ffmpeg.input("pipe:0", format="rawvideo", pix_fmt="yuv420p", s=f"{W}x{H}", framerate=FPS)
        run_fed(_encode(source.video, out, preset, threads), frames(raw, motion), what="piped")

    return render


def _pillow_frames(raw: bytes, motion: Motion) -> Iterator[bytes]:
    luma, chroma = W * H, W * H // 4
    planes = [Image.frombuffer("L", (W, H), raw[:luma]), Image.frombuffer("L", (W // 2, H // 2),
                                                                          raw[luma:luma + chroma]),
              Image.frombuffer("L", (W // 2, H // 2), raw[luma + chroma:])]
    for zoom, cx, cy in camera(motion, W, H, FRAMES):
        parts = []
        for plane, sub in zip(planes, (1, 2, 2), strict=True):
            w, h = W // sub, H // sub
            a, c = 1 / zoom, cx / sub - w / (2 * zoom)
            f = cy / sub - h / (2 * zoom)
            parts.append(plane.transform((w, h), Image.Transform.AFFINE, (a, 0, c, 0, a, f),
                                         Image.Resampling.BILINEAR).tobytes())
        yield b"".join(parts)


CANDIDATES: dict[str, Callable[..., None]] = {
    "perspective": perspective, "zoompan-4x": zoompan_4x, "scale+crop": scale_crop,
    "pillow-affine": _piped(_pillow_frames),
    "opencv-affine": _piped(lambda raw, motion: moving_frames(raw, motion, W, H, FRAMES)),
}


def measure(name: str, still: Path, work: Path, preset: str = "veryfast", threads: int | None = None) -> dict[str, Any]:
    """CPU ms per frame and wall of a pan_right clip, then the jitter of a pan and a zoom (tracked dot)."""
    out = work / f"{name}.mp4"
    cpu, wall = _cpu(), time.perf_counter()
    CANDIDATES[name](still, out, "pan_right", preset, threads)
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    pan = track(gray_frames(out, W, H), (W * 0.4, H * 0.3))
    CANDIDATES[name](still, out, "zoom_in", preset, threads)
    zoom = track(gray_frames(out, W, H), (W * 0.12, H * 0.2))
    return {"candidate": name, "preset": preset, "cpu_ms_per_frame": round(1000 * cpu / FRAMES, 2),
            "realtime_x": round(SECONDS / wall, 2), "size_kib": out.stat().st_size // 1024,
            "jitter_pan": round(pan.jitter, 3), "jitter_zoom": round(zoom.jitter, 3),
            "monotonic": pan.monotonic and zoom.monotonic}


def picture_still(work: Path) -> Path:
    """A still from the offline image renderer: a picture with the detail (and encode cost) of a real scene."""
    from providers.base import ImageRequest
    from providers.local.frames import LocalImageProvider

    path = work / "picture.png"
    text = "A lighthouse keeper climbs the spiral stairs and lights the great lamp."
    path.write_bytes(LocalImageProvider().generate(ImageRequest(text, W, H, 7, "16:9")))
    return path


def encode_cost(still: Path, work: Path, preset: str) -> dict[str, Any]:
    """CPU per frame, wall and file size of the chosen motion at an x264 preset, on a real-looking still."""
    out = work / f"preset-{preset}.mp4"
    cpu, wall = _cpu(), time.perf_counter()
    CANDIDATES["opencv-affine"](still, out, "zoom_in", preset, None)
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    return {"candidate": "opencv-affine (picture still)", "preset": preset,
            "cpu_ms_per_frame": round(1000 * cpu / FRAMES, 2), "realtime_x": round(SECONDS / wall, 2),
            "size_kib": out.stat().st_size // 1024}


def concurrent(still: Path, work: Path, threads: int | None, renders: int = 4) -> float:
    """Wall seconds of ``renders`` chosen-candidate clips rendered at once with ``threads`` x264 threads each."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> None:
        CANDIDATES["opencv-affine"](still, work / f"c{i}.mp4", "zoom_in", "veryfast", threads)

    start = time.perf_counter()
    with ThreadPoolExecutor(renders) as pool:
        list(pool.map(one, range(renders)))
    return time.perf_counter() - start


def main() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="rf-motion-bench-"))
    still = dot_still(work / "dots.png", W, H)
    rows = []
    for name in CANDIDATES:
        try:
            rows.append(measure(name, still, work))
        except Exception as exc:  # a candidate ffmpeg cannot run is a finding too
            rows.append({"candidate": name, "error": str(exc)[-300:]})
    rows += [encode_cost(picture_still(work), work, preset)
             for preset in ("ultrafast", "superfast", "veryfast", "faster")]
    threads = {str(t): round(concurrent(still, work, t), 2) for t in (1, 2, 0)}  # 0: x264's own choice
    return {"candidates": rows, "four_at_once_wall_by_threads": threads}


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    sys.stdout.write(json.dumps(main(), indent=1) + "\n")
