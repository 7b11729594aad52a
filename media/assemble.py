"""Putting the film together without touching the pictures again.

Scene clips are joined with the concat demuxer by stream copy: re-encoding would cost as much as rendering them
all over again and lose quality. That is safe because ``media.scene`` encodes every clip with identical settings;
``concat_clips`` checks that before copying, since mismatched clips would give a file that plays wrong rather than
an error. The narration track is added the same way (copy, copy), with ``+faststart`` so the MP4 starts playing
before it has fully downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.errors import RenderError
from media.ffmpeg import atomic_output, file_arg, run
from media.probe import VideoStream, probe


def _concat_line(path: Path) -> str:
    """One concat-demuxer list entry; single quotes are closed, escaped and reopened (``'\\''``)."""
    quoted = file_arg(path).replace("'", "'\\''")
    return f"file '{quoted}'\n"


def clip_videos(clips: Sequence[Path]) -> list[VideoStream | None]:
    """Each clip's video parameters, probed a few at a time (each probe is an ffmpeg start)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda clip: probe(clip).video, clips))


def _check_compatible(clips: Sequence[Path], videos: Sequence[VideoStream | None] | None = None) -> None:
    """Every clip's video parameters equal the first's (``videos``: already probed, else probed here)."""
    videos = clip_videos(clips) if videos is None else videos
    if len(videos) != len(clips):
        raise RenderError(f"concat failed: {len(videos)} clip descriptions for {len(clips)} clips")
    first = videos[0]
    if first is None:
        raise RenderError(f"concat failed: {clips[0].name} has no video stream")
    for clip, video in zip(clips[1:], videos[1:], strict=True):
        if video != first:
            raise RenderError(f"concat failed: {clip.name} ({video}) does not match {clips[0].name} ({first})")


def concat_clips(clips: Sequence[Path], out: Path, audio: Path | None = None,
                 videos: Sequence[VideoStream | None] | None = None) -> Path:
    """Join video-only clips end to end by stream copy (no re-encode); they must share codec, size, fps, pix_fmt.

    With ``audio``, the track is muxed in the same command (as :func:`mux` does): one pass over the film, not two.
    ``videos``: the clips' parameters when known (:func:`clip_videos` of an earlier join), so they are compared
    without probing every clip again.
    """
    if not clips:
        raise RenderError("concat failed: no clips")
    clips = [Path(clip) for clip in clips]
    _check_compatible(clips, videos)
    out = Path(out)
    with atomic_output(out) as tmp:
        listing = tmp.with_suffix(".txt")
        listing.write_text("".join(_concat_line(clip) for clip in clips), encoding="utf-8")
        try:
            args = ["-f", "concat", "-safe", "0", "-i", file_arg(listing)]
            if audio is not None:
                args += ["-i", file_arg(audio), "-map", "0:v:0", "-map", "1:a:0", "-movflags", "+faststart"]
            else:
                args += ["-map", "0:v:0"]
            run([*args, "-c", "copy", file_arg(tmp)], what="concat clips")
        finally:
            listing.unlink(missing_ok=True)
    return out


def mux(video: Path, audio: Path, out: Path) -> Path:
    """Put the narration track next to the joined video: both stream-copied, ``moov`` first for progressive play."""
    out = Path(out)
    args = ["-i", file_arg(video), "-i", file_arg(audio), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy"]
    with atomic_output(out) as tmp:
        run([*args, "-movflags", "+faststart", file_arg(tmp)], what="mux video and narration")
    return out


def extract_poster(video: Path, out: Path, at: float = 0.5) -> Path:
    """A JPEG of the frame at ``at`` seconds (input-side seek: decodes one GOP, not the whole film)."""
    out = Path(out)
    args = ["-ss", f"{max(at, 0.0):.3f}", "-i", file_arg(video), "-map", "0:v:0", "-frames:v", "1", "-q:v", "3"]
    with atomic_output(out) as tmp:
        run([*args, "-update", "1", file_arg(tmp)], what="extract poster")
        if not tmp.is_file() or tmp.stat().st_size == 0:  # ffmpeg exits 0 when the seek lands past the end
            raise RenderError(f"extract poster failed: no frame at {at:.2f}s in {Path(video).name}")
    return out
