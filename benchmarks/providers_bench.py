"""Latency hiding with vendors: a 10-scene narrative whose stills and clips come from slow (faked) vendors.

The issue's vendor timings (5 s per image, 20 s per clip) are scaled down ten times, same ratio: the Replicate fake
takes 0.5 s per FLUX still and 2 s per Kling clip; narration comes from the OpenAI fake without delay. The real
SDKs talk to the fakes over local HTTP, as in tests/flows/test_vendor_flow.py.

Two cold-cache runs of the same request: with zero vendor latency (the local work alone: downloads, scene
renders, assembly, Prefect) and with the latencies. Perfect latency hiding costs one scene's chain of vendor waits
on top of the local work, so ``critical path = zero-latency wall + image + clip latency`` and
``wall / critical path`` is the figure (goal ≤ 1.3). Figures are printed, never asserted.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IMAGE_S, CLIP_S = 0.5, 2.0
LINES = [
    "A paper boat sets off down a rainy street.", "A child in a yellow coat runs after it.",
    "The boat spins past a sleeping cat.", "It slides under a wooden bridge.", "Ducks turn to watch it pass.",
    "The rain stops and the sun comes out.", "The boat rides a long gutter slide.", "It reaches the wide river.",
    "The child waves from the bank.", "The boat drifts toward the sea.",
]


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _prefect() -> contextlib.AbstractContextManager[object]:
    """The stack's Prefect API when ``make bench`` started one, else a throwaway test server."""
    if os.environ.get("PREFECT_API_URL"):
        return contextlib.nullcontext()
    from prefect.testing.utilities import prefect_test_harness

    return prefect_test_harness(server_startup_timeout=120)


def run_once(image_s: float, clip_s: float) -> float:
    """Wall seconds of one cold-cache narrative with the given vendor latencies."""
    from core.contract import parse_narrative
    from core.settings import get_settings
    from flows.narrative import narrative
    from tests.fakes.openai_fake import KEY, OpenAIFake
    from tests.fakes.replicate_fake import TOKEN, ReplicateFake

    openai, replicate = OpenAIFake().start(), ReplicateFake().start()
    replicate.latency.update(image=image_s, clip=clip_s)
    env = {
        "REELFLOW_DATA_DIR": tempfile.mkdtemp(prefix="rf-bench-vendors-"),
        "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": openai.base_url,
        "REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": replicate.url,
        "REELFLOW_PROVIDER_POLL_INTERVAL": "0.05",
    }
    try:
        with _env(env):
            get_settings.cache_clear()
            request = parse_narrative({"input": {
                "prompt_list": LINES, "image_model": "FLUX1.1PRO", "add_generative_video": True,
                "video_model": "KLINGIMGTOVIDPRO", "provider": "OPENAI", "speaker": "alloy",
            }})
            started = time.perf_counter()
            state = narrative(request, return_state=True)
            wall = time.perf_counter() - started
            if not state.is_completed():
                raise RuntimeError(f"flow failed: {state.message}")
    finally:
        openai.stop()
        replicate.stop()
        from core.settings import get_settings

        get_settings.cache_clear()
    return wall


def main() -> dict[str, float]:
    """Figures: zero-latency wall, wall with vendor latency, critical path and their ratio."""
    from tests.fakes import media

    media.mp4(5.0)  # the fake's clip is rendered once up front, not inside a timed run
    with _prefect():
        zero = run_once(0.0, 0.0)
        wall = run_once(IMAGE_S, CLIP_S)
    critical = zero + IMAGE_S + CLIP_S
    return {
        "scenes": float(len(LINES)),
        "vendor_image_s": IMAGE_S,
        "vendor_clip_s": CLIP_S,
        "zero_latency_wall_s": round(zero, 2),
        "wall_s": round(wall, 2),
        "critical_path_s": round(critical, 2),
        "wall_over_critical_path": round(wall / critical, 3),
        "serial_vendor_wait_s": len(LINES) * (IMAGE_S + CLIP_S),
    }


if __name__ == "__main__":
    import json

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    sys.stdout.write(json.dumps(main(), indent=2) + "\n")
