"""``reelflow doctor`` and ``GET /v1/video/models`` give the same answer for every combination of vendor keys, and the
create routes refuse what a one-key server cannot serve with the variables that would serve it."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapter.cli import app as cli
from core import catalog
from core.contract import parse_movie, parse_narrative
from core.settings import get_settings
from providers import availability, registry
from tests.unit.adapter.conftest import KEY

VENDOR_KEYS = {"OPENAI_API_KEY": "sk-x", "REPLICATE_API_TOKEN": "r8_x", "RUNWAYML_API_SECRET": "key_x",
               "ELEVENLABS_API_KEY": "el_x", "GEMINI_API_KEY": "AIza_x"}
COMBINATIONS = [dict(c) for n in range(len(VENDOR_KEYS) + 1) for c in itertools.combinations(VENDOR_KEYS.items(), n)]
README = Path(__file__).resolve().parents[3] / "README.md"


def configure(monkeypatch: pytest.MonkeyPatch, keys: dict[str, str], fallback: bool) -> None:
    for name in VENDOR_KEYS:
        monkeypatch.delenv(name, raising=False)
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REELFLOW_LOCAL_FALLBACK", str(fallback).lower())
    get_settings.cache_clear()


@pytest.mark.parametrize("fallback", [False, True])
def test_doctor_and_models_agree_for_every_combination_of_keys(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, fallback: bool
) -> None:
    runner = CliRunner()
    for keys in COMBINATIONS:
        configure(monkeypatch, keys, fallback)
        api = client.get("/v1/video/models", headers={"API_KEY": KEY})
        doctor = runner.invoke(cli, ["doctor", "--json"])
        assert api.status_code == 200, keys
        assert doctor.exit_code == 0, doctor.output
        assert json.loads(doctor.output) == api.json(), sorted(keys)
        text = runner.invoke(cli, ["doctor"]).output
        for row in api.json()["models"]:
            line = next(line for line in text.splitlines() if line.split()[:1] == [row["key"]])
            served = "refused" not in line
            assert served == row["available"], (sorted(keys), line)


def test_doctor_prints_who_serves_each_row(monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, {"GEMINI_API_KEY": "g"}, fallback=False)
    lines = CliRunner().invoke(cli, ["doctor"]).output.splitlines()
    veo = next(line for line in lines if line.strip().startswith("VEO3.1I2V"))
    flux = next(line for line in lines if line.strip().startswith("FLUX1.1PRO"))
    assert veo.endswith("google (veo-3.1-generate-001)")
    assert "refused: FLUX1.1PRO needs REPLICATE_API_TOKEN on this server" in flux
    assert "script writer: google:gemini-2.5-flash" in lines


def test_an_openai_only_server_serves_gptimage2_narratives(monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, {"OPENAI_API_KEY": "sk"}, fallback=False)
    request = parse_narrative({"input": {"prompt_list": ["A fox."], "image_model": "GPTIMAGE2"}})
    assert registry.availability_error(request.input) is None


def test_an_openai_only_server_refuses_a_movie_naming_the_variables(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, {"OPENAI_API_KEY": "sk"}, fallback=False)
    body = {"input": {"prompt": "A fox.", "image_model": "GPTIMAGE2", "video_model": "VEO3.1I2V", "duration": 12}}
    answer = client.post("/v1/video/create_movie", json=body, headers={"API_KEY": KEY})
    assert answer.status_code == 400
    assert answer.json() == {"message": "VEO3.1I2V needs GEMINI_API_KEY (or REPLICATE_API_TOKEN) on this server; "
                                        "or set REELFLOW_LOCAL_FALLBACK=true to render it locally"}


def test_the_report_marks_local_fallback_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, {"OPENAI_API_KEY": "sk"}, fallback=True)
    rows = {row.key: row for row in availability.report().models}
    assert rows["KLINGIMGTOVIDPRO"].served_by == "local"
    assert rows["KLINGIMGTOVIDPRO"].local_fallback
    assert not rows["GPTIMAGE2"].local_fallback


def readme_bodies() -> list[tuple[str, dict[str, object]]]:
    """Every ``-d '{...}'`` body of the README's curl examples, with the endpoint it is posted to."""
    text = README.read_text(encoding="utf-8")
    found = re.findall(r"/v1/video/(create_\w+) \\\n(?:[^\n]*\\\n)*?\s*-d '(\{.*?\})'", text, re.DOTALL)
    return [(endpoint, json.loads(body)) for endpoint, body in found]


@pytest.mark.parametrize("keys", [{}, {"REPLICATE_API_TOKEN": "r8", "OPENAI_API_KEY": "sk"}])
def test_every_readme_example_body_still_works(monkeypatch: pytest.MonkeyPatch, keys: dict[str, str]) -> None:
    configure(monkeypatch, keys, fallback=False)
    bodies = readme_bodies()
    assert {endpoint for endpoint, _ in bodies} == {"create_narrative", "create_movie"}
    for endpoint, body in bodies:
        if endpoint == "create_narrative":
            assert registry.availability_error(parse_narrative(body).input) is None, body
        else:
            spec = parse_movie(body).input
            keys_used = [spec.image_model or "", spec.video_model or "", spec.voice.provider]
            assert [registry.check_available(k) for k in keys_used] == [None, None, None], body


def test_every_catalog_key_is_in_the_report() -> None:
    data = availability.report()
    assert [m.key for m in data.models] == [m.key for m in catalog.MODELS]
    assert [v.key for v in data.voice_providers] == [v.key for v in catalog.VOICE_PROVIDERS]
