"""Movie benchmark: a 120 s offline movie against the previous pipeline, peak memory 120 s vs 10 s, cached rerun.

Wall: a 120 s offline movie (FLUX1.1PRO stills, KLINGIMGTOVIDPRO clips on the local renderers, narration on,
720p/30 fps) with a cold cache, each run in a fresh Python process, by this checkout and by the pipeline before the
render-speed work (commit ``REFERENCE``, checked out with ``git worktree add`` into a temp folder and run with
``PYTHONPATH`` pointing there), alternating, on the same Prefect server, so the ratio compares like with like on
a noisy machine. Needs the repository's history (a clean clone has it).

Rerun: the child then renders the identical movie again on the same data: every asset is cached, so it must call
no provider and take a small fraction of the cold wall.

Memory: each movie runs in a fresh Python process (``python -m benchmarks.movie_bench <seconds>``), whose peak RSS
is read at its exit from ``VmHWM`` in ``/proc/self/status`` (the high-water mark of the process's own memory: the
flow, its task threads, Prefect's client). Not ``ru_maxrss``: Linux folds the pre-exec RSS of the forking parent
into a child's ``ru_maxrss``, so a child started from this (large) benchmark process reported the parent's peak —
that is where the 790-840 MiB measured earlier came from, for every movie length and both pipelines alike. The
same wrapper reads the reference pipeline's child. The goal is a ratio ≤ 1.5: scenes stream through storage one at
a time, so a 12x longer movie must not need much more memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PROMPT = ("A lighthouse keeper wakes before dawn on a windswept island. She climbs the spiral stairs and lights the "
          "great lamp. Far out at sea, a small fishing boat turns toward the beam. The waves grow tall, but the light "
          "never wavers. By sunrise, the crew is safe in the harbour, and they wave up at the tower.")
REPO = Path(__file__).resolve().parent.parent
#: The last commit before the render-speed work (issue 14): the reference pipeline.
REFERENCE = "d4ed24b"


def _fresh_data_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="rf-movie-bench-"))
    os.environ["REELFLOW_DATA_DIR"] = str(path)
    from core.settings import get_settings

    get_settings.cache_clear()
    return path


def run_movie(seconds: float, fresh: bool = True) -> tuple[float, float]:
    """Wall seconds of one movie flow run in this process (cold cache when ``fresh``) and the video's duration."""
    from core.contract import parse_movie
    from flows.movie import movie

    if fresh:
        _fresh_data_dir()
    request = parse_movie({"input": {"prompt": PROMPT, "image_model": "FLUX1.1PRO",
                                     "video_model": "KLINGIMGTOVIDPRO", "duration": seconds}})
    start = time.perf_counter()
    state = movie(request, return_state=True)
    wall = time.perf_counter() - start
    if not state.is_completed():
        raise RuntimeError(f"movie flow failed: {state.message}")
    return wall, float(state.result().duration)


#: Runs ``benchmarks.movie_bench`` of whichever checkout is on PYTHONPATH, then prints the process's own peak RSS.
_WRAPPER = """
import json, runpy, sys
sys.argv = ["movie_bench", *sys.argv[1:]]
runpy.run_module("benchmarks.movie_bench", run_name="__main__")
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
sys.stdout.write(json.dumps({"hwm_mib": round(int(hwm.split()[1]) / 1024, 1)}) + "\\n")
"""


def measure_in_child(seconds: float, repo: Path = REPO, rerun: bool = False) -> dict[str, float]:
    """Run one movie in a fresh interpreter on the code in ``repo``; its wall seconds and peak RSS (MiB)."""
    args = [sys.executable, "-c", _WRAPPER, str(seconds), *(["rerun"] if rerun else [])]
    out = subprocess.run(args, cwd=repo, check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(repo)})
    *_, figures, hwm = out.stdout.strip().splitlines()
    merged = dict(json.loads(figures))
    merged["rss_mib"] = json.loads(hwm)["hwm_mib"]
    return merged


@contextlib.contextmanager
def reference_checkout() -> Iterator[Path]:
    """The reference commit checked out in a temp folder (a detached git worktree), removed afterwards."""
    where = Path(tempfile.mkdtemp(prefix="rf-movie-ref-")) / "ref"
    subprocess.run(["git", "worktree", "add", "--detach", str(where), REFERENCE], cwd=REPO, check=True,
                   capture_output=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=REPO, check=False,
                       capture_output=True)


def main() -> dict[str, float]:
    new: list[dict[str, float]] = []
    old: list[dict[str, float]] = []
    with reference_checkout() as ref:
        for _ in range(2):
            old.append(measure_in_child(120, ref))
            new.append(measure_in_child(120, rerun=True))
        short = measure_in_child(10)
    best_new, best_old = min(new, key=lambda r: r["wall"]), min(old, key=lambda r: r["wall"])
    return {
        "video_seconds": best_new["seconds"], "wall_120s": best_new["wall"], "reference_wall_120s": best_old["wall"],
        "speedup": round(best_old["wall"] / best_new["wall"], 2),
        "realtime_factor": round(best_new["seconds"] / best_new["wall"], 2),
        "walls": [r["wall"] for r in new], "reference_walls": [r["wall"] for r in old],
        "rss_10s_mib": short["rss_mib"], "rss_120s_mib": best_new["rss_mib"],
        "reference_rss_120s_mib": best_old["rss_mib"],
        "rss_ratio_120_over_10": round(best_new["rss_mib"] / short["rss_mib"], 3),
        "rerun_wall_120s": best_new["rerun_wall"],
        "rerun_over_cold": round(best_new["rerun_wall"] / best_new["wall"], 3),
        "rerun_provider_calls": best_new["rerun_calls"],
    }


def _child(seconds: float, rerun: bool) -> None:
    """Entry point of :func:`measure_in_child`: one movie (and its identical rerun), figures as one JSON line."""
    wall, duration = run_movie(seconds)
    mib = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0  # ru_maxrss is KiB on Linux, bytes on macOS
    figures = {"seconds": duration, "wall": round(wall, 2),
               "rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mib, 1)}
    if rerun:
        from providers.registry import CALLS

        before = sum(CALLS.values())
        figures["rerun_wall"] = round(run_movie(seconds, fresh=False)[0], 2)
        figures["rerun_calls"] = sum(CALLS.values()) - before
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    _child(float(sys.argv[1]), "rerun" in sys.argv[2:])
