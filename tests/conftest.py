"""Shared fixtures: every test starts from a clean environment and its own data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# No test may phone home, whatever Prefect server it ends up starting.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from core.settings import get_settings  # noqa: E402

# vendor fakes on local ports (tests/fakes/); how `make test` groups and orders tests for its two xdist workers
pytest_plugins = ["tests.fakes.fixtures", "tests.scheduling"]

_CLEARED_PREFIXES = ("REELFLOW_",)
_CLEARED_NAMES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REPLICATE_API_TOKEN", "REPLICATE_BASE_URL", "GEMINI_API_KEY",
                  "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL", "GOOGLE_CLOUD_PROJECT",
                  "GOOGLE_CLOUD_LOCATION", "GOOGLE_GENAI_USE_VERTEXAI",
                  "RUNWAYML_API_SECRET", "ELEVENLABS_API_KEY", "RUNWAYML_BASE_URL", "ELEVENLABS_BASE_URL")


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test sees the developer's keys or another test's settings; each gets a fresh data dir."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("REELFLOW_DATA_DIR", str(data))
    monkeypatch.setenv("REELFLOW_MIN_FREE_MB", "64")  # a low floor: test machines may have little free disk
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()
