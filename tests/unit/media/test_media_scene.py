"""Scene clips: exact frames and size, smooth motion, captions burned in, generated clips normalised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.errors import RenderError
from media.captions import Cue, write_scene_ass
from media.ffmpeg import run
from media.probe import probe, stream_durations
from media.scene import MOTION_CYCLE, Motion, motion_for, render_still_clip, render_video_clip

W, H, FPS = 320, 180, 24


def gray_frames(clip: Path, tmp_path: Path, width: int = W, height: int = H) -> np.ndarray:
    raw = tmp_path / "frames.gray"
    run(["-i", str(clip), "-f", "rawvideo", "-pix_fmt", "gray", str(raw)], what="decode")
    return np.fromfile(raw, np.uint8).reshape(-1, height, width).astype(float)


def test_motion_cycles_through_all_four() -> None:
    motions = [motion_for(i) for i in range(8)]
    assert set(motions[:4]) == {"zoom_in", "zoom_out", "pan_left", "pan_right"}
    assert motions[4:] == motions[:4] == list(MOTION_CYCLE)
    assert motions[0] != motions[1]


@pytest.mark.parametrize("motion", MOTION_CYCLE)
def test_still_clip_has_exact_frames_and_size_from_any_aspect(
    tmp_path: Path, make_still: Callable[[Path, tuple[int, int]], Path], motion: Motion
) -> None:
    image = make_still(tmp_path / "tall.png", (301, 517))  # odd, portrait: must be cover-cropped to 16:9
    clip = render_still_clip(
        image, tmp_path / "clip.mp4", duration=1.0, width=W, height=H, fps=FPS, motion=motion, ass=None
    )
    info = probe(clip)
    assert info.audio is None
    assert info.video is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", W, H)
    assert (info.video.pix_fmt, info.video.fps) == ("yuv420p", FPS)
    video_s, audio_s = stream_durations(clip)
    assert (video_s, audio_s) == (1.0, 0.0)  # 24 frames at 24 fps: exact
    assert not list(tmp_path.glob("*.part*"))


@pytest.mark.parametrize("motion", ["zoom_in", "pan_right"])
def test_motion_is_smooth_not_jittery(tmp_path: Path, motion: Motion) -> None:
    """A dot's position must advance by nearly the same amount every frame; pixel-snapping zoompan gives a
    frame-to-frame spread of about three times the mean step at this size, we stay well under half of it."""
    image = Image.new("RGB", (W, H))
    ImageDraw.Draw(image).ellipse((246, 36, 254, 44), fill="white")
    image.save(tmp_path / "dot.png")
    clip = render_still_clip(
        tmp_path / "dot.png", tmp_path / "dot.mp4", duration=2.0, width=W, height=H, fps=FPS, motion=motion, ass=None
    )
    frames = np.clip(gray_frames(clip, tmp_path) - 16, 0, None)
    xs = np.arange(W)[None, None, :]
    centre_x = (frames * xs).sum(axis=(1, 2)) / frames.sum(axis=(1, 2))
    steps = np.diff(centre_x)
    assert len(frames) == 2 * FPS
    assert abs(steps.mean()) > 0.1  # it moves...
    assert steps.std() < 0.35 * abs(steps.mean())  # ...evenly


def test_captions_are_burned_in(tmp_path: Path, still: Path) -> None:
    ass = write_scene_ass([Cue(0.0, 1.0, "Burned in caption")], W, H, tmp_path / "c.ass")
    common = {"duration": 0.5, "width": W, "height": H, "fps": FPS, "motion": "zoom_in"}
    plain = render_still_clip(still, tmp_path / "plain.mp4", ass=None, **common)  # type: ignore[arg-type]
    captioned = render_still_clip(still, tmp_path / "cap.mp4", ass=ass, **common)  # type: ignore[arg-type]
    plain_frames = gray_frames(plain, tmp_path)
    captioned_frames = gray_frames(captioned, tmp_path)
    caption_box = (slice(None), slice(int(H * 0.75), int(H * 0.95)), slice(W // 4, 3 * W // 4))
    top = (slice(None), slice(0, int(H * 0.4)))
    caption_change = np.abs(plain_frames[caption_box] - captioned_frames[caption_box]).mean()
    codec_noise = np.abs(plain_frames[top] - captioned_frames[top]).mean()
    assert caption_change > 5 * max(codec_noise, 1.0)


@pytest.mark.parametrize(("source_s", "target_s"), [(1.0, 2.0), (3.0, 1.0)])
def test_video_clip_is_held_or_trimmed_to_exact_duration(tmp_path: Path, source_s: float, target_s: float) -> None:
    source = tmp_path / "gen.mp4"
    run(
        ["-f", "lavfi", "-i", f"testsrc2=s=400x300:r=25:d={source_s}", "-f", "lavfi", "-i", f"sine=d={source_s}"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(source)],
        what="make source",
    )
    clip = render_video_clip(source, tmp_path / "clip.mp4", duration=target_s, width=W, height=H, fps=FPS, ass=None)
    info = probe(clip)
    assert info.audio is None
    assert info.video is not None and (info.video.width, info.video.height, info.video.fps) == (W, H, FPS)
    assert stream_durations(clip)[0] == pytest.approx(target_s)


def test_bad_geometry_is_refused(tmp_path: Path, still: Path) -> None:
    with pytest.raises(RenderError, match="even"):
        render_still_clip(
            still, tmp_path / "x.mp4", duration=1.0, width=321, height=180, fps=FPS, motion="zoom_in", ass=None
        )


def test_broken_image_raises_with_ffmpegs_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a png")
    out = tmp_path / "x.mp4"
    with pytest.raises(RenderError) as caught:
        render_still_clip(broken, out, duration=1.0, width=W, height=H, fps=FPS, motion="zoom_in", ass=None)
    message = str(caught.value)
    assert message.startswith("render broken.png failed:")
    assert "Invalid data found when processing input" in message
    assert not out.exists() and not list(tmp_path.glob("*.part*"))  # no half-written file left behind


def test_a_still_of_the_frame_size_converts_in_process_as_ffmpeg_does(tmp_path: Path) -> None:
    """The in-process path (OpenCV, for stills that need no scaling) gives ffmpeg's BT.709 luma within one level;
    chroma differs only by the 2x2 filter (a box here, lanczos in ffmpeg), on this busy picture by ~1 level."""
    from media import scene

    rng = np.random.default_rng(7)
    picture = (rng.random((H // 4, W // 4, 3)) * 255).astype(np.uint8)
    path = tmp_path / "still.png"
    Image.fromarray(picture).resize((W, H), Image.Resampling.BICUBIC).save(path)
    ours = scene._exact_still(path, W, H)
    assert ours is not None
    assert scene._exact_still(path, W + 2, H) is None  # a still that needs scaling goes through ffmpeg
    still = scene._cover(scene.ffmpeg.input(str(path)).video, W, H).filter("format", "yuv420p")
    reference = scene.run_output(still.output("pipe:1", format="rawvideo", pix_fmt="yuv420p", **{"frames:v": 1}),
                                 what="reference")
    difference = np.abs(np.frombuffer(ours, np.uint8).astype(int) - np.frombuffer(reference, np.uint8).astype(int))
    assert len(ours) == W * H * 3 // 2
    assert difference[: W * H].max() <= 1
    assert difference[W * H:].mean() < 1.5
