"""Every input cap against the live stack: each bad or oversized input is a 400 (403 for a bad link) naming the
field, never a 500 and never a wait on Prefect. The time these answers take is measured by ``make bench``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from core.textrules import MAX_JSON_DEPTH
from tests.e2e.conftest import KEY_A, narrative_body
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
MOVIE = {"input": {"prompt": "A fox in the snow.", "image_model": "FLUX1.1PRO", "video_model": "RUNWAYML",
                   "duration": 10.0}}


def narrative(**overrides: Any) -> dict[str, Any]:
    return narrative_body(["A quiet harbour at dawn."], **overrides)


@pytest.mark.parametrize(("body", "field", "reason"), [
    (narrative_body(["before\u0000after"]), "input.prompt_list", "U+0000"),
    (narrative_body("one line\u0007\nanother"), "input.prompt_list", "U+0007"),
    (narrative_body(["ok", "bell\u001b[31m"]), "input.prompt_list", "entry 2"),
    (narrative(speaker="alloy\n"), "input.speaker", "U+000A"),
    (narrative(image_model="FLUX1.1PRO\u0000"), "input.image_model", "U+0000"),
    (narrative_body(["x" * 1001]), "input.prompt_list", "at most 1000 are allowed per line"),
    (narrative_body(["y" * 1000] * 11), "input.prompt_list", "at most 10000 are allowed"),
    ({**narrative(), "webhookUrl": "http://example.com:99999/x"}, "webhookUrl", "port outside 1-65535"),
    ({**narrative(), "webhookUrl": "http://example.com:0/x"}, "webhookUrl", "port outside 1-65535"),
    ({**narrative(), "webhookUrl": "http://exa\u0000mple.com/x"}, "webhookUrl", "U+0000"),
])
def test_narrative_text_rules(api: httpx.Client, body: dict[str, Any], field: str, reason: str) -> None:
    response = api.post("/v1/video/create_narrative", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"{field}: ")
    assert reason in response.json()["message"]


def test_the_nul_line_of_the_report_is_a_400(api: httpx.Client) -> None:
    response = api.post("/v1/video/create_narrative", json=narrative_body(["a line with \u0000 inside"]))
    assert response.status_code == 400
    assert "U+0000" in response.json()["message"]


@pytest.mark.parametrize(("raw", "field"), [
    ('{"input": {"prompt_list": ["a\\ud800"], "image_model": "FLUX1.1PRO"}}', "input.prompt_list"),
    ('{"input": {"prompt_list": ["a"], "image_model": "FLUX1.1PRO", "speaker": "\\udfff"}}', "input.speaker"),
    ('{"input": {"prompt_list": ["a"], "image_model": "FLUX1.1PRO"}, "webhookUrl": "http://h.example/\\ud83d"}',
     "webhookUrl"),
])
def test_unpaired_surrogates_are_refused(api: httpx.Client, raw: str, field: str) -> None:
    response = api.post("/v1/video/create_narrative", content=raw.encode(),
                        headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"{field}: ")
    assert "contains an unpaired surrogate" in response.json()["message"]


def test_a_paired_surrogate_is_ordinary_text() -> None:
    from core.contract import parse_narrative

    parsed = parse_narrative(json.loads('{"input": {"prompt_list": ["a \\ud83c\\udfac clapper"], '
                                        '"image_model": "FLUX1.1PRO"}}'))
    assert parsed.input.prompt_list == ["a \U0001f3ac clapper"]


def test_movie_prompt_rules(api: httpx.Client) -> None:
    response = api.post("/v1/video/create_movie", json={"input": {**MOVIE["input"], "prompt": "fox\u0000"}})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("input.prompt: contains the control character U+0000")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
@pytest.mark.parametrize("path", ["/v1/video/create_narrative", "/v1/video/create_movie"])
def test_json_nested_too_deep_is_a_400(api: httpx.Client, depth: int, path: str) -> None:
    response = api.post(path, content=b"[" * depth + b"]" * depth, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"body: JSON nests deeper than {MAX_JSON_DEPTH} levels."


def test_brackets_inside_strings_do_not_count_as_depth(api: httpx.Client) -> None:
    body = narrative(speaker="[" * 100)  # deep-looking text inside a string is just text (an unknown voice here)
    response = api.post("/v1/video/create_narrative", json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith("input.speaker: speaker '[[[")


@pytest.mark.parametrize(("query", "reason"), [
    (b"request_id=%ff%fe", "not valid UTF-8"),
    (b"request_id=abc%00", "U+0000"),
])
def test_query_values_that_are_not_text(stack: Stack, query: bytes, reason: str) -> None:
    response = httpx.get(f"{stack.api_url}/v1/video/status?{query.decode()}", headers={"API_KEY": KEY_A})
    assert response.status_code == 400, response.text
    assert reason in response.json()["message"]


@pytest.mark.parametrize("header", ["Idempotency-Key", "API_KEY", "X-Anything"])
def test_header_values_that_are_not_text(stack: Stack, header: str) -> None:
    headers = [(b"API_KEY", KEY_A.encode()), (header.encode(), b"caf\xe9-\xff")]
    response = httpx.post(f"{stack.api_url}/v1/video/create_narrative", headers=headers, json=narrative())
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"header {header.lower()}: not valid UTF-8 text"


@pytest.mark.parametrize(("signature", "status"), [("%C3%A9t%C3%A9", 403), ("%ff", 400), ("ab%00", 400)])
def test_file_links_with_signatures_that_are_not_ascii(stack: Stack, signature: str, status: int) -> None:
    response = httpx.get(f"{stack.api_url}/v1/video/files/jobs/x/video.mp4?expires=9999999999&signature={signature}")
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_a_nul_in_a_file_path_is_a_400(stack: Stack) -> None:
    response = httpx.get(f"{stack.api_url}/v1/video/files/jobs/a%00b.mp4?expires=9999999999&signature=x")
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("path: contains the control character U+0000")
