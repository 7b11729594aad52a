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


def main() -> None:
    """Start the real stack once (Prefect on embedded PostgreSQL, as in production) and run each benchmark on it."""
    import tempfile

    from tests.e2e.stack import start_stack

    selected = set(sys.argv[1:])
    data = Path(tempfile.mkdtemp(prefix="rf-bench-stack-"))
    # the API benchmark holds hundreds of jobs of one key at once: admission is raised for the bench key's stack
    with start_stack(data, {"REELFLOW_API_KEYS": BENCH_KEY, "REELFLOW_MAX_ACTIVE_PER_KEY": "100000"}) as stack:
        os.environ["PREFECT_API_URL"] = stack.prefect_api_url
        os.environ["REELFLOW_BENCH_API_URL"] = stack.api_url
        os.environ["REELFLOW_BENCH_API_KEY"] = BENCH_KEY
        os.environ["REELFLOW_BENCH_DATA_DIR"] = str(stack.data_dir)
        os.environ["REELFLOW_BENCH_STACK_PID"] = str(stack.process.pid)
        from benchmarks import (
            api_bench,
            edit_bench,
            limits_bench,
            motion_bench,
            movie_bench,
            narrative_bench,
            providers_bench,
            sound_bench,
        )

        results: dict[str, dict[str, Any]] = {}
        for name, module in (("api", api_bench), ("motion", motion_bench), ("narrative", narrative_bench),
                             ("providers", providers_bench), ("movie", movie_bench), ("sound", sound_bench),
                             ("limits", limits_bench), ("edit", edit_bench)):
            if selected and name not in selected:
                continue
            started = time.perf_counter()
            results[name] = module.main()
            sys.stdout.write(f"{name}: {json.dumps(results[name])} ({time.perf_counter() - started:.0f} s)\n")
            if name == "api":
                _api_ratios(results[name])
    if not selected or "scale" in selected:  # its own cluster (PostgreSQL at 127.0.0.1:5432, workers): stack stopped
        from benchmarks import scale_bench

        started = time.perf_counter()
        sys.stdout.write(f"scale: {json.dumps(scale_bench.main())} ({time.perf_counter() - started:.0f} s)\n")
    sys.stdout.write(f"machine: {machine()}\ndate: {time.strftime('%Y-%m-%d')}\n")


if __name__ == "__main__":
    main()
