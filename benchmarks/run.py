"""``make bench``: run every benchmark, print its figures and ratios (nothing here is asserted)."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


BENCH_KEY = "bench-key-0123456789"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"


def _api_ratios(api: dict[str, Any]) -> None:
    """Issue 13's figures side by side: ours against bare Prefect, and the dispatcher against Prefect's create rate."""
    bare, ours, drain = api["bare_prefect"], api["our_api"], api["drain"]
    sys.stdout.write(
        f"api vs bare Prefect at {api['clients']} clients: create p99 {ours['create_p99_ms']} ms "
        f"(bare {bare['create_p99_ms']} ms, goal <= 100), status p99 {ours['status_p99_ms']} ms "
        f"(bare read {bare['read_p99_ms']} ms, goal <= 50); drain {drain['dispatched_per_s']}/s vs bare create "
        f"{bare['creates_per_s']}/s = {api['ratios']['drain_vs_bare_create_rate']}x (goal >= 0.9)\n")


BENCHMARKS = ("api", "motion", "narrative", "providers", "movie", "sound", "limits", "edit", "scale")


def main() -> None:
    """Run each benchmark in a process and on a stack of its own, one after the other.

    Isolation, not convenience: a benchmark leaves work behind on its stack (the API benchmark cancels a thousand
    flow runs, and Prefect's server then spends minutes of CPU on their events), which made the next benchmark on
    the same stack measure that instead of itself (2026-11-26: the narrative's floor 11.7 s after the API benchmark
    against 8.9 s alone). ``benchmarks/run.py NAME`` runs one benchmark in this process.
    """
    selected = sys.argv[1:]
    unknown = sorted(set(selected) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if len(selected) == 1:
        run_on_own_stack(selected[0])
        return
    import subprocess

    for name in selected or BENCHMARKS:
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, name], check=False)
    sys.stdout.write(f"machine: {machine()}\ndate: {time.strftime('%Y-%m-%d')}\n")


def run_on_own_stack(name: str) -> None:
    """Start the real stack (Prefect on embedded PostgreSQL, as in production) and run one benchmark on it; the
    scale-out benchmark brings its own cluster (PostgreSQL at 127.0.0.1:5432, workers) instead."""
    import importlib
    import tempfile

    from tests.e2e.stack import start_stack

    started = time.perf_counter()
    if name == "scale":
        from benchmarks import scale_bench

        sys.stdout.write(f"scale: {json.dumps(scale_bench.main())} ({time.perf_counter() - started:.0f} s)\n")
        return
    data = Path(tempfile.mkdtemp(prefix="rf-bench-stack-"))
    # the API benchmark holds hundreds of jobs of one key at once: admission is raised for the bench key's stack
    with start_stack(data, {"REELFLOW_API_KEYS": BENCH_KEY, "REELFLOW_MAX_ACTIVE_PER_KEY": "100000"}) as stack:
        os.environ["PREFECT_API_URL"] = stack.prefect_api_url
        os.environ["REELFLOW_BENCH_API_URL"] = stack.api_url
        os.environ["REELFLOW_BENCH_API_KEY"] = BENCH_KEY
        os.environ["REELFLOW_BENCH_DATA_DIR"] = str(stack.data_dir)
        os.environ["REELFLOW_BENCH_STACK_PID"] = str(stack.process.pid)
        started = time.perf_counter()
        result = importlib.import_module(f"benchmarks.{name}_bench").main()
        sys.stdout.write(f"{name}: {json.dumps(result)} ({time.perf_counter() - started:.0f} s)\n")
        if name == "api":
            _api_ratios(result)


if __name__ == "__main__":
    main()
