"""The embedded runner's scheduled batch: off by default, both variables or a clear error, the nightly's parameters."""

from __future__ import annotations

import pytest

from core.settings import get_settings
from deployments.serve import batch_schedules


def test_no_schedule_by_default() -> None:
    assert batch_schedules(get_settings()) == []


def test_cron_and_manifest_make_one_utc_schedule_with_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_BATCH_SCHEDULE", "0 2 * * *")
    monkeypatch.setenv("REELFLOW_BATCH_MANIFEST", "s3://bucket/nightly.jsonl")
    get_settings.cache_clear()
    (schedule,) = batch_schedules(get_settings())
    assert schedule.cron == "0 2 * * *"
    assert schedule.timezone == "UTC"
    assert schedule.parameters == {"request": {"manifest": "s3://bucket/nightly.jsonl", "skip_invalid": True,
                                               "max_in_flight": 4}}


@pytest.mark.parametrize(("name", "value", "message"), [
    ("REELFLOW_BATCH_SCHEDULE", "0 2 * * *", "REELFLOW_BATCH_MANIFEST is not set"),
    ("REELFLOW_BATCH_MANIFEST", "/srv/nightly.jsonl", "REELFLOW_BATCH_SCHEDULE is not set"),
])
def test_one_variable_alone_is_an_error_naming_the_other(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                          message: str) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with pytest.raises(ValueError, match=message):
        batch_schedules(get_settings())


def test_an_invalid_cron_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_BATCH_SCHEDULE", "every night")
    monkeypatch.setenv("REELFLOW_BATCH_MANIFEST", "/srv/nightly.jsonl")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="REELFLOW_BATCH_SCHEDULE='every night' is not a valid cron"):
        batch_schedules(get_settings())
