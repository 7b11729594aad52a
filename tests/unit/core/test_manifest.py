"""Batch manifests: every line validated like an API body, errors reported per line with the API's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InvalidRequest
from core.manifest import MAX_LINES, BatchRequest, parse_line, parse_manifest
from core.settings import get_settings
from tasks.batch import load_manifest, read_text, stage_manifest

NARRATIVE = {"input": {"prompt_list": ["A fox in the snow.", "It runs."], "image_model": "FLUX1.1PRO"}}
MOVIE = {"type": "movie", "input": {"prompt": "A paper boat sails away.", "image_model": "FLUX1.1PRO",
                                    "video_model": "KLINGIMGTOVIDPRO", "duration": 10}}


def jsonl(*items: object) -> str:
    return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in items) + "\n"


def test_valid_lines_keep_their_numbers_type_and_validated_body() -> None:
    text = jsonl(NARRATIVE, "", {**MOVIE, "webhookUrl": "https://example.com/hook"})
    result = parse_manifest(text)
    assert result.errors == []
    assert [(line.line, line.type) for line in result.lines] == [(1, "narrative"), (3, "movie")]
    first, second = result.lines
    assert first.body["input"]["prompt_list"] == ["A fox in the snow.", "It runs."]
    assert first.body["input"]["aspect_ratio"] == "16:9"  # defaults filled in, as the API stores them
    assert "type" not in second.body and second.body["input"]["duration"] == 10.0
    assert second.webhook and not first.webhook


def test_each_invalid_line_is_reported_with_the_api_message() -> None:
    text = jsonl(
        NARRATIVE,
        {"input": {"prompt_list": ["x"], "image_model": "DALLE3"}},
        "{not json",
        ["a", "list"],
        {"type": "podcast", "input": {}},
        {**MOVIE, "input": {**MOVIE["input"], "duration": "30"}},  # type: ignore[dict-item]
        {"input": {"prompt_list": ["x"]}},
    )
    result = parse_manifest(text)
    assert [line.line for line in result.lines] == [1]
    messages = {e.line: e.message for e in result.errors}
    assert set(messages) == {2, 3, 4, 5, 6, 7}
    assert messages[2].startswith("input.image_model: 'DALLE3' is not an express model")
    assert messages[3].startswith("not valid JSON")
    assert messages[4] == "must be a JSON object with an 'input' object"
    assert messages[5] == "type: must be 'narrative' or 'movie', not \"podcast\""
    assert messages[6].startswith("input.duration: must be a number of seconds")
    assert messages[7].startswith("input.image_model: is required")
    assert result.report().splitlines()[0].startswith("line 2: input.image_model")


def test_an_empty_manifest_is_an_error_and_size_is_bounded() -> None:
    assert parse_manifest("\n  \n").report() == "the manifest has no jobs (every line is blank)"
    result = parse_manifest(jsonl(*[NARRATIVE] * (MAX_LINES + 5)))
    assert len(result.lines) == MAX_LINES and [e.line for e in result.errors] == [MAX_LINES + 1]


def test_parse_line_raises_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        parse_line(1, "{")


def test_batch_request_bounds() -> None:
    assert BatchRequest(manifest="m.jsonl").max_in_flight == 4
    with pytest.raises(ValueError):
        BatchRequest(manifest="m.jsonl", max_in_flight=0)


def test_load_manifest_adds_what_this_server_cannot_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, every catalog model is served locally; with only an OpenAI key, FLUX needs Replicate's token."""
    path = tmp_path / "batch.jsonl"
    path.write_text(jsonl(NARRATIVE, {**NARRATIVE, "webhookUrl": "http://127.0.0.1:9/hook"}))
    offline = load_manifest(str(path))
    assert [line.line for line in offline.lines] == [1]
    assert offline.errors[0].line == 2 and "webhookUrl: 127.0.0.1 resolves to 127.0.0.1" in offline.errors[0].message

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    get_settings.cache_clear()
    online = load_manifest(str(path))
    assert online.lines == [] and "REPLICATE_API_TOKEN" in online.errors[0].message


def test_read_text_from_a_storage_url_and_refuses_unreadable_sources(tmp_path: Path) -> None:
    url = stage_manifest(jsonl(NARRATIVE).encode())
    assert url.startswith("file://") and "/batches/" in url and url.endswith(".jsonl")
    assert read_text(url) == jsonl(NARRATIVE)
    assert load_manifest(url).lines[0].line == 1
    with pytest.raises(InvalidRequest, match="cannot read the manifest"):
        read_text(str(tmp_path / "missing.jsonl"))
