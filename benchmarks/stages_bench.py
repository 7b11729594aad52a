"""Where a cold narrative's work goes: each stage of the floor run alone, one after the other, CPU and wall.

The narrative benchmark's floor (``narrative_bench.run_bare``) does, per scene: draw the still, narrate the line,
cover-crop the still to one raw frame, warp it frame by frame (``media.motion``) and pipe the frames into the one
ffmpeg that burns captions and encodes; then the narration's loudness measure and encode, the join + mux, the
poster. Here each of those runs on its own for the benchmark's six lines (no concurrency), so its CPU seconds
(this process's and ffmpeg's, read apart) add up to what the machine must spend; wall on two cores can not be
below half of it. The ffmpeg encode is also split: reading the piped frames alone (into a null sink), with the
captions burned, and with x264 at each preset, so each ingredient's share is known.

``python -m benchmarks.stages_bench`` (no stack needed).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.narrative_bench import LINES  # noqa: E402


def _usage() -> tuple[float, float, float]:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


class Stages:
    """Accumulates (wall, own CPU, child CPU) per stage name."""

    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = {}

    def time(self, name: str, fn: Callable[[], Any]) -> Any:
        start = _usage()
        out = fn()
        end = _usage()
        row = self.rows.setdefault(name, [0.0, 0.0, 0.0])
        for i in range(3):
            row[i] += end[i] - start[i]
        return out

    def table(self) -> dict[str, dict[str, float]]:
        return {name: {"wall": round(w, 3), "cpu_own": round(o, 3), "cpu_ffmpeg": round(k, 3),
                       "cpu": round(o + k, 3)} for name, (w, o, k) in self.rows.items()}


def main() -> dict[str, Any]:
    import ffmpeg  # type: ignore[import-untyped,unused-ignore]

    from core.settings import get_settings
    from media.assemble import _concat_line, extract_poster
    from media.audio import build_narration
    from media.captions import group_words, write_scene_ass
    from media.ffmpeg import file_arg, run, run_fed
    from media.motion import motion_for, moving_frames
    from media.probe import probe
    from media.scene import BT709, _captions, _encode, _still_frame
    from media.timing import frame_count, scene_duration
    from providers.base import ImageRequest
    from providers.local.frames import LocalImageProvider
    from providers.local.voice import LocalSpeechProvider, warm_up
    from tasks.planning import scene_seed

    os.environ.setdefault("REELFLOW_DATA_DIR", tempfile.mkdtemp(prefix="rf-stages-"))
    get_settings.cache_clear()
    settings = get_settings()
    width, height = settings.frame_size("16:9")
    fps = settings.fps
    work = Path(tempfile.mkdtemp(prefix="rf-stages-"))
    warm_up()
    images, voices, st = LocalImageProvider(), LocalSpeechProvider(), Stages()
    scenes: list[dict[str, Any]] = []
    for index, text in enumerate(LINES, start=1):
        png = work / f"{index}.png"
        data = st.time("draw still", lambda: images.generate(  # noqa: B023
            ImageRequest(text, width, height, scene_seed(text, index), "16:9")))  # noqa: B023
        png.write_bytes(data)
        speech = st.time("tts", lambda: voices.synthesize(text, "alloy"))  # noqa: B023
        wav = work / f"{index}.wav"
        wav.write_bytes(speech.wav)
        duration = scene_duration(speech.duration, fps)
        ass = write_scene_ass(group_words(speech.words), width, height, work / f"{index}.ass")
        raw = st.time("still to raw frame", lambda: _still_frame(png, width, height))  # noqa: B023
        scenes.append({"png": png, "wav": wav, "duration": duration, "ass": ass, "raw": raw,
                       "frames": frame_count(duration, fps), "motion": motion_for(index)})

    def frames_of(s: dict[str, Any]) -> Iterator[memoryview]:
        return moving_frames(s["raw"], s["motion"], width, height, s["frames"])

    for s in scenes:
        st.time("warp (OpenCV, 3 planes)", lambda: sum(1 for _ in frames_of(s)))  # noqa: B023

    def source() -> Any:
        src = ffmpeg.input("pipe:0", format="rawvideo", pix_fmt="yuv420p", s=f"{width}x{height}", framerate=fps)
        return src.video.filter("setparams", **BT709)

    def feed(name: str, graph: Callable[[dict[str, Any], Path], Any], suffix: str = "mp4") -> None:
        for s in scenes:
            out = work / f"{name.replace(' ', '_')}-{s['png'].stem}.{suffix}"
            st.time(name, lambda: run_fed(graph(s, out), frames_of(s), what=name))  # noqa: B023

    null = {"f": "null"}
    feed("pipe read -> null", lambda s, out: source().output("-", **null), "null")
    feed("pipe + captions -> null", lambda s, out: _captions(source(), s["ass"]).output("-", **null), "null")
    for preset in ("ultrafast", "superfast", "veryfast", "reelflow"):
        feed(f"pipe -> x264 {preset}", lambda s, out, p=preset: _encode(  # type: ignore[misc]
            source(), out, fps=fps, frames=s["frames"], preset=p, threads=1))
        feed(f"pipe + captions -> x264 {preset}", lambda s, out, p=preset: _encode(  # type: ignore[misc]
            _captions(source(), s["ass"]), out, fps=fps, frames=s["frames"], preset=p, threads=1))
    clips = [work / f"pipe_+_captions_->_x264_veryfast-{s['png'].stem}.mp4" for s in scenes]
    segments = [(s["wav"], s["duration"]) for s in scenes]
    audio = st.time("narration: measure + encode", lambda: build_narration(segments, work / "narration.m4a"))
    listing = work / "clips.txt"
    listing.write_text("".join(_concat_line(c) for c in clips), encoding="utf-8")
    final = work / "final.mp4"
    st.time("join + mux (copy)", lambda: run(
        ["-f", "concat", "-safe", "0", "-i", file_arg(listing), "-i", file_arg(audio), "-map", "0:v:0", "-map",
         "1:a:0", "-c", "copy", "-movflags", "+faststart", file_arg(final)], what="join"))
    st.time("probe x7", lambda: [probe(c) for c in [*clips, final]])
    st.time("poster", lambda: extract_poster(final, work / "poster.jpg"))
    st.time("ffmpeg start (-version) x10", lambda: [run(["-version"], what="v") for _ in range(10)])
    video = sum(s["duration"] for s in scenes)
    return {"video_seconds": round(video, 2), "frames": sum(s["frames"] for s in scenes),
            "load_average": os.getloadavg(), "stages": st.table()}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(), indent=1) + "\n")
