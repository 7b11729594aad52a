"""Movie benchmark: realtime factor of a 60 s offline movie, and peak memory of a 120 s movie vs a 10 s one.

Realtime factor: video seconds per wall second of one cold-cache run of the movie flow in this process (after a
short warm-up movie, so the voice model and the Prefect client are loaded), at 720p/30 fps on the local renderers.

Memory: each movie runs in a fresh Python process (``python -m benchmarks.movie_bench <seconds>``) that reports its
own peak RSS (``ru_maxrss`` of RUSAGE_SELF: the flow, its task threads, Prefect's client). Reading it inside the
child keeps the two runs apart: the parent's RUSAGE_CHILDREN is a running maximum over every child it ever waited
for. (ffmpeg's own peaks cannot be read that way: Linux counts a forked child's pre-exec copy of the parent in its
``ru_maxrss``, so RUSAGE_CHILDREN just repeats the flow process's figure.) The goal is a ratio ≤ 1.5: scenes stream
through storage one at a time, so a 12x longer movie must not need much more memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = ("A lighthouse keeper wakes before dawn on a windswept island. She climbs the spiral stairs and lights the "
          "great lamp. Far out at sea, a small fishing boat turns toward the beam. The waves grow tall, but the light "
          "never wavers. By sunrise, the crew is safe in the harbour, and they wave up at the tower.")
REPO = Path(__file__).resolve().parent.parent


def _fresh_data_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="rf-movie-bench-"))
    os.environ["REELFLOW_DATA_DIR"] = str(path)
    from core.settings import get_settings

    get_settings.cache_clear()
    return path


def run_movie(seconds: float) -> tuple[float, float]:
    """Wall seconds of one cold-cache movie flow run in this process, and the video's duration."""
    from core.contract import parse_movie
    from flows.movie import movie

    _fresh_data_dir()
    request = parse_movie({"input": {"prompt": PROMPT, "image_model": "FLUX1.1PRO",
                                     "video_model": "KLINGIMGTOVIDPRO", "duration": seconds}})
    start = time.perf_counter()
    state = movie(request, return_state=True)
    wall = time.perf_counter() - start
    if not state.is_completed():
        raise RuntimeError(f"movie flow failed: {state.message}")
    return wall, float(state.result().duration)


def measure_in_child(seconds: float) -> dict[str, float]:
    """Run one movie in a fresh interpreter; its wall seconds and peak RSS (MiB)."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.movie_bench", str(seconds)], cwd=REPO, check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> dict[str, float]:
    from providers.local.voice import warm_up

    warm_up()
    run_movie(5)
    wall, video_seconds = run_movie(60)
    short, long = measure_in_child(10), measure_in_child(120)
    return {
        "video_seconds": round(video_seconds, 2), "flow_seconds": round(wall, 2),
        "realtime_factor": round(video_seconds / wall, 2),
        "rss_10s_mib": short["rss_mib"], "rss_120s_mib": long["rss_mib"],
        "rss_ratio_120_over_10": round(long["rss_mib"] / short["rss_mib"], 3),
        "wall_10s": short["wall"], "wall_120s": long["wall"],
    }


def _child(seconds: float) -> None:
    """Entry point of :func:`measure_in_child`: one movie, then its figures as one JSON line on stdout."""
    wall, duration = run_movie(seconds)
    mib = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0  # ru_maxrss is KiB on Linux, bytes on macOS
    figures = {"seconds": duration, "wall": round(wall, 2),
               "rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mib, 1)}
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    _child(float(sys.argv[1]))
