"""The movie script writer through the real ``openai`` SDK against a fake chat endpoint (pytest-httpserver).

openai 3.x talks through ``httpx2``, so respx cannot intercept it; a real local HTTP server can. Each test checks
what the SDK sent and how an answer is classified: malformed or truncated → retryable, a refusal → fatal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from core.errors import FatalProviderError, RetryableProviderError
from core.script import word_budget
from core.settings import get_settings
from providers.script_writer import script_schema, write_movie_script

DURATIONS = [10.0, 5.0, 5.0, 10.0]
CHAT = "/v1/chat/completions"
STYLE = {"subject": "a red fox with a white-tipped tail", "setting": "a snowy birch forest at dawn",
         "palette": "cold blues and warm amber", "look": "cinematic, soft morning light"}


@pytest.fixture
def chat(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-movie-script-000000")
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    get_settings.cache_clear()
    return httpserver


def completion(content: str | None, finish: str = "stop", refusal: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


def scenes(count: int, narration: str = "The fox wakes and sniffs the cold air.") -> list[dict[str, Any]]:
    return [{"visual": f"Shot {i} of the fox.", "narration": narration, "duration": 7} for i in range(count)]


def test_malformed_then_valid_json_is_retryable_then_a_fitted_script(chat: HTTPServer) -> None:
    valid = {"style": STYLE, "scenes": scenes(5, "word " * 40)}  # one scene too many, lines far too long
    chat.expect_ordered_request(CHAT, method="POST").respond_with_json(completion('{"style": {"subject": "a fox"'))
    chat.expect_ordered_request(CHAT, method="POST").respond_with_json(completion(json.dumps(valid)))

    with pytest.raises(RetryableProviderError, match="not valid JSON"):
        write_movie_script("A fox in the snow.", DURATIONS, narration=True)
    script = write_movie_script("A fox in the snow.", DURATIONS, narration=True)

    assert script.style.subject == STYLE["subject"] and script.written_by == get_settings().openai_script_model
    assert [s.duration for s in script.scenes] == DURATIONS, "our planned durations, not the model's"
    assert all(len(s.narration.split()) <= word_budget(s.duration) for s in script.scenes)
    request, _ = chat.log[0]
    body = request.get_json()
    assert request.headers["Authorization"] == "Bearer sk-test-movie-script-000000"
    assert body["model"] == "gpt-4.1-mini"
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "movie_script", "strict": True, "schema": script_schema()}}
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "Write exactly 4 scenes" in user["content"] and "1. duration 10 s; narration: at most 22 words" in \
        user["content"]
    chat.check_assertions()


def test_the_schema_is_strict_everywhere() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            found = [node] if node.get("type") == "object" else []
            return found + [o for value in node.values() for o in objects(value)]
        return [o for value in node for o in objects(value)] if isinstance(node, list) else []

    for obj in objects(script_schema()):
        assert obj["additionalProperties"] is False and set(obj["required"]) == set(obj["properties"])


@pytest.mark.parametrize(("answer", "error", "text"), [
    (completion('{"style": ', finish="length"), RetryableProviderError, "cut off at the length limit"),
    (completion(None, refusal="I can't help with that."), FatalProviderError, "refused the content"),
    (completion(json.dumps({"style": STYLE, "scenes": scenes(2)})), RetryableProviderError,
     "2 scenes where 4 were asked for"),
    (completion(json.dumps({"style": STYLE, "scenes": ["one", "two", "three", "four"]})), RetryableProviderError,
     "does not follow the requested JSON schema"),
    (completion(json.dumps({"scenes": scenes(4)})), RetryableProviderError, "does not follow the requested JSON"),
])
def test_answers_we_cannot_use(chat: HTTPServer, answer: dict[str, Any], error: type[Exception], text: str) -> None:
    chat.expect_oneshot_request(CHAT, method="POST").respond_with_json(answer)
    with pytest.raises(error, match=text):
        write_movie_script("A fox in the snow.", DURATIONS, narration=True)
    assert len(chat.log) == 1, "the SDK never retries on its own"


def test_without_narration_the_model_is_told_to_leave_it_empty(chat: HTTPServer) -> None:
    chat.expect_oneshot_request(CHAT, method="POST").respond_with_json(
        completion(json.dumps({"style": STYLE, "scenes": scenes(4)})))
    script = write_movie_script("A fox in the snow.", DURATIONS, narration=False)
    assert all(s.narration == "" for s in script.scenes)
    assert "narration: empty string" in chat.log[0][0].get_json()["messages"][1]["content"]
