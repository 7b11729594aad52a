"""Tags of jobs in the Prefect UI (one pure function for every creator) and module logs in the run's log view."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from core.settings import get_settings
from flows.names import EXTRA_LOGGERS
from flows.ui import MODULE_LOGGERS, attach_module_logs, run_tags, tags_for


def narrative(**extra: object) -> dict[str, object]:
    return {"input": {"prompt_list": ["  A lighthouse, at dawn! Waves roll in slowly now.", "Gulls."],
                      "image_model": "FLUX1.1PRO", **extra}}


def test_offline_narrative_tags_say_kind_models_voice_aspect_and_offline() -> None:
    tags = run_tags("narrative", narrative(aspect_ratio="9:16"))
    assert tags == ["kind:narrative", "image:FLUX1.1PRO", "voice:OPENAI", "aspect:9:16", "offline"]


def test_generative_video_adds_the_video_model_tag() -> None:
    tags = run_tags("narrative", narrative(add_generative_video=True, video_model="RUNWAYML"))
    assert "video:RUNWAYML" in tags


def test_a_video_model_without_generative_video_is_not_tagged() -> None:
    assert not any(t.startswith("video:") for t in run_tags("narrative", narrative(video_model="RUNWAYML")))


def test_vendor_tags_name_each_backend_that_serves_the_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    get_settings.cache_clear()
    tags = run_tags("narrative", {"input": {"prompt_list": ["x"], "image_model": "GPTIMAGE2"}})
    assert "vendor:openai" in tags
    assert "offline" not in tags


def test_a_local_fallback_is_tagged_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("REELFLOW_LOCAL_FALLBACK", "true")
    get_settings.cache_clear()
    tags = run_tags("narrative", narrative())  # FLUX needs Replicate, which is not configured: rendered locally
    assert "local" in tags
    assert "vendor:openai" in tags  # the default voice


def test_the_dispatcher_tags_a_row_by_its_deployment_and_never_fails_on_an_odd_body() -> None:
    assert tags_for("narrative/reelflow-narrative", {"request": narrative()}) == run_tags("narrative", narrative())
    assert tags_for("narrative/reelflow-narrative", {"request": {"input": {}}}) == []


def test_a_movie_is_tagged_with_its_video_model() -> None:
    body = {"input": {"prompt": "Paper boat", "image_model": "FLUX1.1PRO", "video_model": "RUNWAYML", "duration": 10}}
    tags = run_tags("movie", body)
    assert tags[:3] == ["kind:movie", "image:FLUX1.1PRO", "video:RUNWAYML"]


def test_module_loggers_get_info_level_unless_set_explicitly() -> None:
    logging.getLogger("media").setLevel(logging.WARNING)
    logging.getLogger("providers").setLevel(logging.NOTSET)
    try:
        attach_module_logs()
        assert logging.getLogger("providers").getEffectiveLevel() == logging.INFO
        assert logging.getLogger("media").level == logging.WARNING
    finally:
        for name in MODULE_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_workers_of_prefect_yaml_send_the_same_module_logs() -> None:
    spec = yaml.safe_load((Path(__file__).resolve().parents[3] / "deployments" / "prefect.yaml").read_text())
    env = spec["definitions"]["work_pool"]["job_variables"]["env"]
    assert env["PREFECT_LOGGING_EXTRA_LOGGERS"] == EXTRA_LOGGERS
