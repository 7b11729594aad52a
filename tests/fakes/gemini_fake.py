"""Google's wire protocol as the google-genai SDK speaks it: the Gemini Developer API and Vertex AI express mode.

Both clients get this server's URL as their base URL (``GOOGLE_GEMINI_BASE_URL`` / ``GOOGLE_VERTEX_BASE_URL``):

- ``POST /v1/models/{model}:generateContent`` (Developer API; ``v1`` is the SDK's default version, ``v1beta`` is
  accepted too; key in ``x-goog-api-key``) answers by what ``generationConfig`` asks for:
  ``responseModalities: ["IMAGE"]`` → a PNG as ``inlineData`` at the aspect ratio of ``imageConfig.aspectRatio``;
  ``["AUDIO"]`` → 24 kHz 16-bit mono PCM as ``inlineData`` (``audio/L16;codec=pcm;rate=24000``) for the
  ``prebuiltVoiceConfig.voiceName``; ``responseMimeType: application/json`` with ``responseJsonSchema`` → the
  ``script`` knob as JSON text.
- ``POST /v1beta1/publishers/google/models/{model}:predictLongRunning`` (Vertex express mode) starts a Veo
  operation; ``POST .../{model}:fetchPredictOperation`` with ``{"operationName"}`` reports it, done after
  ``video_polls`` fetches, with the MP4 inline (``bytesBase64Encoded``) or, with ``video_as_uri``, as a URI to
  download.
- Errors are Google's ``{"error": {"code", "message", "status", "details"}}``; a wrong key is Google's 400
  ``API_KEY_INVALID``; 429 carries ``RetryInfo`` (``retryDelay: "7s"``). ``content_policy`` answers like the safety
  system: ``promptFeedback.blockReason`` for images, speech and scripts, ``raiMediaFilteredCount`` for Veo.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes import media, scripts
from tests.fakes.server import FakeServer

KEY = "AIzaSy-test-fake-gemini-key-0000000"
VOICES = {"Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe"}
#: Gemini image sizes at the default 1K resolution per aspect ratio.
IMAGE_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "4:3": (1184, 864),
               "3:4": (864, 1184)}
VEO_DURATIONS = {4, 6, 8}
VEO_ASPECTS = {"16:9", "9:16"}
GENERATE = r"/(?P<version>v1|v1beta)/models/(?P<model>[\w.\-]+):generateContent"
PREDICT = r"/v1beta1/publishers/google/models/(?P<model>[\w.\-]+):predictLongRunning"
FETCH = r"/v1beta1/publishers/google/models/(?P<model>[\w.\-]+):fetchPredictOperation"
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class GeminiFake(FakeServer):
    def __init__(self, image_model: str = "gemini-3.1-flash-image", tts_model: str = "gemini-2.5-flash-preview-tts",
                 script_model: str = "gemini-2.5-flash", video_model: str = "veo-3.1-generate-001") -> None:
        super().__init__()
        self.image_model, self.tts_model = image_model, tts_model
        self.script_model, self.video_model = script_model, video_model
        #: What script requests answer: "ok" (``script`` as JSON; None: a script that follows the prompt's scene
        #: list), "length" (MAX_TOKENS) or "broken" (bad JSON).
        self.script_mode = "ok"
        self.script: dict[str, Any] | None = None
        #: Fetches of a Veo operation before it is done; ``video_as_uri``: the clip as a URI instead of inline.
        self.video_polls = 2
        self.video_as_uri = False
        self.operations: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.route("POST", GENERATE, self._generate)
        self.route("POST", PREDICT, self._predict)
        self.route("POST", FETCH, self._fetch)

    def error(self, status: int, headers: dict[str, str] | None = None, message: str = "",
              details: list[dict[str, Any]] | None = None) -> Response:
        name = STATUS_NAMES.get(status, "UNKNOWN")
        default = {401: "Request had invalid authentication credentials.", 429: "Resource has been exhausted.",
                   403: "The caller does not have permission."}.get(status, f"The service answered {name}.")
        if status == 429 and details is None:
            details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]
        body = {"error": {"code": status, "message": message or default, "status": name, "details": details or []}}
        return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("x-goog-api-key") != KEY:
            return self.error(400, message="API key not valid. Please pass a valid API key.", details=[
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com"}])
        return None

    @staticmethod
    def _json(data: dict[str, Any]) -> Response:
        return Response(json.dumps(data), mimetype="application/json")

    # -- generateContent ---------------------------------------------------------------------------------------
    def _generate(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        model = match["model"]
        self.record(f"generate:{model}", body)
        problem = self.require(body, {"contents": list, "generationConfig": dict}, {"systemInstruction": dict},
                               "generateContent")
        text = _text_of(body) if not problem else ""
        if problem or not text:
            return self.problem(problem or f"generateContent: no text in {body}")
        config = body["generationConfig"]
        if self.content_policy:
            return self._json({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})
        if config.get("responseModalities") == ["IMAGE"] and model == self.image_model:
            return self._image(config)
        if config.get("responseModalities") == ["AUDIO"] and model == self.tts_model:
            return self._speech(config, text)
        if config.get("responseMimeType") == "application/json" and model == self.script_model:
            return self._script(body, config)
        return self.problem(f"generateContent: unexpected model {model} or config {config}")

    def _candidate(self, parts: list[dict[str, Any]], finish: str = "STOP") -> Response:
        return self._json({"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish,
                                           "index": 0}],
                           "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 20},
                           "modelVersion": "fake"})

    def _image(self, config: dict[str, Any]) -> Response:
        aspect = (config.get("imageConfig") or {}).get("aspectRatio")
        if aspect not in IMAGE_SIZES or set(config) - {"responseModalities", "imageConfig", "seed"}:
            return self.problem(f"image: bad generationConfig {config}")
        width, height = IMAGE_SIZES[aspect]
        data = base64.b64encode(media.png(width, height)).decode()
        return self._candidate([{"inlineData": {"mimeType": "image/png", "data": data}}])

    def _speech(self, config: dict[str, Any], text: str) -> Response:
        voice = _field(_field(_field(config, "speechConfig"), "voiceConfig"), "prebuiltVoiceConfig")
        if _field(voice, "voiceName") not in VOICES or set(config) - {"responseModalities", "speechConfig"}:
            return self.problem(f"speech: bad generationConfig {config}")
        data = base64.b64encode(media.speech_pcm(text, 24000)).decode()
        return self._candidate([{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": data}}])

    def _script(self, body: dict[str, Any], config: dict[str, Any]) -> Response:
        if not isinstance(config.get("responseJsonSchema"), dict) or "systemInstruction" not in body:
            return self.problem(f"script: bad request {config}")
        content = json.dumps(self.script if self.script is not None else scripts.follow(_text_of(body)))
        if self.script_mode == "length":
            return self._candidate([{"text": content[: len(content) // 2]}], finish="MAX_TOKENS")
        if self.script_mode == "broken":
            content = content[:-1]
        return self._candidate([{"text": content}])

    # -- Veo: predictLongRunning + fetchPredictOperation -----------------------------------------------------------
    def _predict(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        self.record("veo", body)
        problem = self.require(body, {"instances": list, "parameters": dict}, {}, "predictLongRunning")
        instance = body["instances"][0] if not problem and body["instances"] else {}
        image = instance.get("image") or {}
        params = body.get("parameters", {}) if isinstance(body, dict) else {}
        try:
            jpeg = base64.b64decode(image.get("bytesBase64Encoded", ""), validate=True)
        except ValueError:
            jpeg = b""
        if problem or match["model"] != self.video_model or not instance.get("prompt") \
                or image.get("mimeType") != "image/jpeg" or not jpeg.startswith(b"\xff\xd8") \
                or params.get("durationSeconds") not in VEO_DURATIONS or params.get("aspectRatio") not in VEO_ASPECTS \
                or params.get("sampleCount") != 1 or params.get("generateAudio") is not False:
            return self.problem(problem or f"predictLongRunning: bad values {params} / {sorted(instance)}")
        name = f"publishers/google/models/{match['model']}/operations/op-{next(self._ids)}"
        with self._lock:
            self.operations[name] = {"params": params, "polls": 0}
        return self._json({"name": name})

    def _fetch(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        name = body.get("operationName") if isinstance(body, dict) else None
        operation = self.operations.get(str(name))
        if operation is None or not str(name).startswith(f"publishers/google/models/{match['model']}/"):
            return self.error(404, message=f"Operation {name} not found.")
        with self._lock:
            operation["polls"] += 1
            done = operation["polls"] >= self.video_polls
        if not done:
            return self._json({"name": name})
        return self._json({"name": name, "done": True, "response": self._videos(operation["params"])})

    def _videos(self, params: dict[str, Any]) -> dict[str, Any]:
        kind = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
        if self.content_policy:
            return {"@type": kind, "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [
                "Unable to generate videos because the input image violates Vertex AI's usage guidelines."]}
        width, height = (320, 180) if params["aspectRatio"] == "16:9" else (180, 320)
        clip = media.mp4(float(params["durationSeconds"]), width, height)
        if self.video_as_uri:
            video = {"gcsUri": self.host_file(f"veo-{len(clip)}.mp4", clip, "video/mp4"), "mimeType": "video/mp4"}
        else:
            video = {"bytesBase64Encoded": base64.b64encode(clip).decode(), "mimeType": "video/mp4"}
        return {"@type": kind, "raiMediaFilteredCount": 0, "videos": [video]}


def _field(data: Any, camel: str) -> Any:
    """A field by its JSON name or its proto name: Google's JSON parser accepts both, and the SDK sends
    ``speechConfig``'s inner fields snake_case (measured with google-genai 3.6.1)."""
    if not isinstance(data, dict):
        return {}
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
    return data.get(camel, data.get(snake, {}))


def _text_of(body: dict[str, Any]) -> str:
    """The user text of a generateContent body (one user turn of text parts)."""
    turns = body.get("contents") or []
    parts = turns[0].get("parts") if turns and isinstance(turns[0], dict) else None
    return " ".join(str(p.get("text", "")) for p in parts or [] if isinstance(p, dict)).strip()
