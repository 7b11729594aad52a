"""The committed ``.env.example`` lists every vendor variable with a comment, and a copy of it loads as defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.catalog import CREDENTIALS
from core.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"
VENDOR_VARIABLES = [*CREDENTIALS.values(), "OPENAI_BASE_URL", "REPLICATE_BASE_URL", "RUNWAYML_BASE_URL",
                    "ELEVENLABS_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL",
                    "REELFLOW_LOCAL_FALLBACK"]


def assignments() -> dict[str, int]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0]: i for i, line in enumerate(lines) if line and not line.startswith("#")}


@pytest.mark.parametrize("name", VENDOR_VARIABLES)
def test_every_vendor_variable_is_listed_after_a_comment(name: str) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    index = assignments()[name]
    assert lines[index - 1].startswith("# "), f"{name} has no comment line above it"


def test_a_copy_of_the_example_loads_as_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings()
    assert settings.is_offline
    assert settings.local_fallback is False
    assert settings.gemini_image_model == Settings.model_fields["gemini_image_model"].default
    assert settings.openai_base_url is None
