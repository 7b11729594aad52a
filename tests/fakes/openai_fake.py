"""OpenAI's wire protocol for images, speech and chat completions (the base URL the SDK gets ends in ``/v1``).

Shapes follow the API reference: ``POST /v1/images/generations`` answers ``{"created", "data": [{"b64_json"}]}``
(GPT image models always send base64), ``POST /v1/audio/speech`` answers audio bytes, ``POST /v1/chat/completions``
answers a ``chat.completion`` object; errors are ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes import media, scripts
from tests.fakes.server import FakeServer

KEY = "sk-test-fake-openai-key-000000"
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}
SIZES = {"1536x864", "864x1536", "1024x1024", "1536x1024", "1024x1536", "auto"}
ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-test-***0000."),
    402: ("insufficient_quota", "insufficient_quota", "You exceeded your current quota."),
    403: ("permission_error", None, "You are not allowed to use this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    422: ("invalid_request_error", None, "Unprocessable request."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
}


class OpenAIFake(FakeServer):
    def __init__(self, image_model: str = "gpt-image-2", tts_model: str = "gpt-4o-mini-tts") -> None:
        super().__init__()
        self.image_model, self.tts_model = image_model, tts_model
        #: What chat completions answer: "ok" (``script`` as JSON), "length", "refusal" or "broken" (bad JSON).
        self.script_mode = "ok"
        #: The script chat completions answer; None: one that follows the prompt's scene list.
        self.script: dict[str, Any] | None = {"title": "A test", "scenes": []}
        self.route("POST", r"/v1/images/generations", self._images)
        self.route("POST", r"/v1/audio/speech", self._speech)
        self.route("POST", r"/v1/chat/completions", self._chat)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def error(self, status: int, headers: dict[str, str] | None = None, code: str | None = None,
              message: str | None = None) -> Response:
        kind, default_code, text = ERRORS.get(status, ("server_error", None, "The server had an error."))
        body = {"error": {"message": message or text, "type": kind, "param": None, "code": code or default_code}}
        return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return self.error(401)
        return None

    def _images(self, request: Request, _: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        self.record("images", body)
        problem = self.require(body, {"model": str, "prompt": str}, {"size": str, "n": int, "output_format": str,
                                                                     "quality": str}, "images")
        if problem or body["model"] != self.image_model or body.get("size", "auto") not in SIZES \
                or body.get("n", 1) != 1 or "response_format" in body:
            return self.problem(problem or f"images: bad values {body}")
        if self.content_policy:
            return self.error(400, code="moderation_blocked",
                              message="Your request was rejected as a result of our safety system.")
        time.sleep(self.latency.get("image", 0))
        width, height = (int(v) for v in body.get("size", "1024x1024").split("x"))
        b64 = base64.b64encode(media.png(width, height)).decode()
        return Response(json.dumps({"created": int(time.time()), "data": [{"b64_json": b64}],
                                    "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110}}),
                        mimetype="application/json")

    def _speech(self, request: Request, _: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        self.record("speech", body)
        problem = self.require(body, {"model": str, "input": str, "voice": str},
                               {"response_format": str, "instructions": str, "speed": float}, "speech")
        if problem or body["model"] != self.tts_model or body["voice"] not in VOICES \
                or not body["input"].strip() or body.get("response_format") != "wav":
            return self.problem(problem or f"speech: bad values {body}")
        time.sleep(self.latency.get("speech", 0))
        return Response(media.wav(media.speech_pcm(body["input"])), mimetype="audio/wav")

    def _chat(self, request: Request, _: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        self.record("chat", body)
        problem = self.require(body, {"model": str, "messages": list, "response_format": dict}, {}, "chat")
        fmt = body.get("response_format", {}) if isinstance(body, dict) else {}
        schema = fmt.get("json_schema", {})
        named = re.fullmatch(r"[\w-]{1,64}", schema.get("name", ""))
        if problem or fmt.get("type") != "json_schema" or schema.get("strict") is not True \
                or not isinstance(schema.get("schema"), dict) or not named:
            return self.problem(problem or f"chat: bad response_format {fmt}")
        user = next((m.get("content", "") for m in body["messages"] if m.get("role") == "user"), "")
        content: str | None = json.dumps(self.script if self.script is not None else scripts.follow(str(user)))
        refusal, finish = None, "stop"
        if self.script_mode == "length":
            content, finish = content[: len(content) // 2], "length"
        elif self.script_mode == "refusal":
            content, refusal = None, "I'm sorry, I can't help with that request."
        elif self.script_mode == "broken":
            content = content[:-1]
        completion = {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 40, "total_tokens": 60},
        }
        return Response(json.dumps(completion), mimetype="application/json")
