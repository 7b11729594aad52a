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


def main() -> None:
    """Start the real stack once (Prefect on embedded PostgreSQL, as in production) and run each benchmark on it."""
    import tempfile

    from tests.e2e.stack import start_stack

    selected = set(sys.argv[1:])
    data = Path(tempfile.mkdtemp(prefix="rf-bench-stack-"))
    with start_stack(data, {"REELFLOW_API_KEYS": BENCH_KEY}) as stack:
        os.environ["PREFECT_API_URL"] = stack.prefect_api_url
        os.environ["REELFLOW_BENCH_API_URL"] = stack.api_url
        os.environ["REELFLOW_BENCH_API_KEY"] = BENCH_KEY
        from benchmarks import api_bench, movie_bench, narrative_bench, providers_bench, sound_bench

        results: dict[str, dict[str, Any]] = {}
        for name, module in (("api", api_bench), ("narrative", narrative_bench), ("providers", providers_bench),
                             ("movie", movie_bench), ("sound", sound_bench)):
            if selected and name not in selected:
                continue
            started = time.perf_counter()
            results[name] = module.main()
            sys.stdout.write(f"{name}: {json.dumps(results[name])} ({time.perf_counter() - started:.0f} s)\n")
    if not selected or "scale" in selected:  # its own cluster (PostgreSQL at 127.0.0.1:5432, workers): stack stopped
        from benchmarks import scale_bench

        started = time.perf_counter()
        sys.stdout.write(f"scale: {json.dumps(scale_bench.main())} ({time.perf_counter() - started:.0f} s)\n")
    sys.stdout.write(f"machine: {machine()}\ndate: {time.strftime('%Y-%m-%d')}\n")


if __name__ == "__main__":
    main()
