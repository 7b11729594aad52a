"""Narrative benchmark: a 6-scene offline narrative at 720p through the Prefect flow vs the bare-ffmpeg floor.

The floor is the same output made the way a hand-written script would, with the fewest ffmpeg commands: the same
local renderers (frames, Piper voice), one encode per scene (motion, captions and the encode in one command, as
the flow does), the narration's measure + encode, one command that joins the clips and muxes the narration, and
the poster; the same parallelism (4 scenes at once), writing to a plain temp folder instead of content-addressed
storage. The ratio flow / floor is what Prefect tasks, caching checks, storage and the extra copy (the flow
concatenates, then muxes) cost on top of the media work. An identical rerun of the flow is timed as well: every
asset is cached, so it must call no provider and take a small fraction of the cold run. The flow is timed until
its call returns, without Prefect's heartbeat thread, whose join after the run is over no caller of the API waits
for (:func:`no_heartbeat_thread`).
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

LINES = [
    "A lighthouse keeper wakes before dawn on a windswept island.",
    "She climbs the spiral stairs and lights the great lamp.",
    "Far out at sea, a small fishing boat turns toward the beam.",
    "The waves grow tall, but the light never wavers.",
    "By sunrise, the crew is safe in the harbour.",
    "They wave up at the tower, and she waves back.",
]
REPS = 3


def cpu_seconds(with_stack: bool = True) -> float:
    """CPU seconds spent so far by this process, its finished children (every ffmpeg) and the stack's processes
    (Prefect server, API, runner: what the flow's bookkeeping costs them). Walls on a shared 2-core machine move
    with the others' load; CPU per narrative does not, and an idle machine can not finish it faster than CPU / 2."""
    import psutil

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    stack = os.environ.get("REELFLOW_BENCH_STACK_PID")
    if stack and with_stack:
        try:
            root = psutil.Process(int(stack))
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
        except psutil.Error:
            pass
    return total


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``fn``'s result and the CPU seconds (see :func:`cpu_seconds`) it cost; the floor uses no stack, so its
    figure leaves the stack's idle ticking out."""
    with_stack = fn is not run_bare
    before = cpu_seconds(with_stack)
    out = fn(*args, **kwargs)
    return out, cpu_seconds(with_stack) - before


def _fresh_data_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="rf-bench-"))
    os.environ["REELFLOW_DATA_DIR"] = str(path)
    from core.settings import get_settings

    get_settings.cache_clear()
    return path


@contextlib.contextmanager
def no_heartbeat_thread() -> Iterator[None]:
    """Run flows called in this process without Prefect's heartbeat thread.

    A flow run joins that thread on its way out, after its state is Completed and its hooks have run (the job is
    done: the intake row says so, the webhook is on its way), and the thread only looks at its stop flag once a
    second, so the flow call returns a uniformly random 0-1 s later (measured: 0.38 s of an 1.1 s identical rerun).
    A job launched by the runner pays that in its finished process's exit, where no caller waits for it; a flow
    called in process, as here, would count it in the render's wall. Heartbeats exist for the crash automation,
    which watches the runner's runs, not these. ``REELFLOW_BENCH_HEARTBEATS=on`` keeps the thread, to compare.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if os.environ.get("REELFLOW_BENCH_HEARTBEATS") == "on":
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def run_flow(lines: list[str], fresh: bool = True) -> tuple[float, float]:
    """Wall seconds of one flow run (cold cache when ``fresh``, else on the last run's data) and video seconds."""
    from core.contract import parse_narrative
    from flows.narrative import narrative

    if fresh:
        _fresh_data_dir()
    request = parse_narrative({"input": {"prompt_list": lines, "image_model": "FLUX1.1PRO"}})
    with no_heartbeat_thread():
        start = time.perf_counter()
        state = narrative(request, return_state=True)
        wall = time.perf_counter() - start
    if not state.is_completed():
        raise RuntimeError(f"flow failed: {state.message}")
    return wall, float(state.result().duration)


def run_bare(lines: list[str]) -> float:
    """Wall seconds of the same renders without Prefect or storage."""
    from core.settings import get_settings
    from media.assemble import _concat_line, extract_poster
    from media.audio import build_narration
    from media.captions import group_words, offset_cues, write_scene_ass, write_sidecars
    from media.ffmpeg import run
    from media.scene import motion_for, render_still_clip
    from media.timing import scene_duration
    from providers.base import ImageRequest
    from providers.local.frames import LocalImageProvider
    from providers.local.voice import LocalSpeechProvider
    from tasks.planning import scene_seed

    work = _fresh_data_dir()
    settings = get_settings()
    width, height = settings.frame_size("16:9")
    fps = settings.fps
    images, voices = LocalImageProvider(), LocalSpeechProvider()
    start = time.perf_counter()

    def scene(item: tuple[int, str]) -> tuple[Path, Path, float, Any]:
        index, text = item
        png = work / f"{index}.png"
        png.write_bytes(images.generate(ImageRequest(text, width, height, scene_seed(text, index), "16:9")))
        speech = voices.synthesize(text, "alloy")
        wav = work / f"{index}.wav"
        wav.write_bytes(speech.wav)
        duration = scene_duration(speech.duration, fps)
        cues = group_words(speech.words)
        ass = write_scene_ass(cues, width, height, work / f"{index}.ass")
        clip = render_still_clip(png, work / f"{index}.mp4", duration=duration, width=width, height=height, fps=fps,
                                 motion=motion_for(index), ass=ass, preset=settings.x264_preset)
        return clip, wav, duration, cues

    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(scene, enumerate(lines, start=1)))
    audio = build_narration([(d[1], d[2]) for d in done], work / "narration.m4a")
    listing = work / "clips.txt"
    listing.write_text("".join(_concat_line(d[0]) for d in done), encoding="utf-8")
    final = work / "final.mp4"
    run(["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
         "-c", "copy", "-movflags", "+faststart", str(final)], what="join and mux")
    offset, cues = 0.0, []
    for _, _, duration, scene_cues in done:
        cues += offset_cues(scene_cues, offset)
        offset += duration
    write_sidecars(cues, work / "c.srt", work / "c.vtt")
    extract_poster(final, work / "poster.jpg")
    return time.perf_counter() - start


def main() -> dict[str, float]:
    from providers.local.voice import warm_up

    warm_up()
    run_flow(["Warm-up line so the Prefect API and the voice are loaded."])
    from providers.registry import CALLS

    flows, bares, reruns, video_seconds, calls = [], [], [], 0.0, 0
    cpu: dict[str, list[float]] = {"flow": [], "floor": [], "rerun": []}
    for _ in range(REPS):
        bare, spent = timed(run_bare, LINES)
        bares.append(bare)
        cpu["floor"].append(spent)
        (wall, video_seconds), spent = timed(run_flow, LINES)
        flows.append(wall)
        cpu["flow"].append(spent)
        before = sum(CALLS.values())
        (rerun, _), spent = timed(run_flow, LINES, fresh=False)
        reruns.append(rerun)
        cpu["rerun"].append(spent)
        calls += sum(CALLS.values()) - before
    flow_s, bare_s, rerun_s = statistics.median(flows), statistics.median(bares), statistics.median(reruns)
    cpu_s = {name: round(statistics.median(values), 2) for name, values in cpu.items()}
    return {"scenes": len(LINES), "video_seconds": round(video_seconds, 2), "flow_seconds": round(flow_s, 2),
            "floor_seconds": round(bare_s, 2), "flow_over_floor": round(flow_s / bare_s, 3),
            "realtime_factor": round(video_seconds / flow_s, 2), "rerun_seconds": round(rerun_s, 2),
            "rerun_over_cold": round(rerun_s / flow_s, 3), "rerun_provider_calls": calls,
            "flows": [round(f, 2) for f in flows], "floors": [round(b, 2) for b in bares],
            "cpu_seconds": cpu_s, "cpu_flow_over_floor": round(cpu_s["flow"] / cpu_s["floor"], 3),
            "realtime_factor_at_cpu_over_2": round(video_seconds / (cpu_s["flow"] / 2), 2),
            "load_average": [round(x, 1) for x in os.getloadavg()]}
