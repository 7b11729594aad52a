"""ElevenLabs' wire protocol: ``POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000``.

Requests carry ``xi-api-key``; the body is ``{"text", "model_id"}``. The answer is ``{"audio_base64",
"alignment": {"characters", "character_start_times_seconds", "character_end_times_seconds"},
"normalized_alignment": {...}}``; errors are ``{"detail": {"status", "message"}}`` (422: a list of ``{loc, msg}``).
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes import media
from tests.fakes.server import FakeServer

KEY = "xi_fakeElevenLabsKey00000000000000000"
VOICE_IDS = {"21m00Tcm4TlvDq8ikWAM", "pNInz6obpgDQGcFmaJgB", "EXAVITQu4vr4xnSDxMaL", "ErXwobaYiN019PkySvjV"}


def alignment(text: str, rate: int = media.RATE) -> dict[str, list[Any]]:
    """Character times that match :func:`media.speech_pcm`: 60 ms per letter, 80 ms gaps, 0.1 s lead-in."""
    chars, starts, ends = [], [], []
    cursor = 0.1
    for i, word in enumerate(text.split()):
        if i:
            chars.append(" ")
            starts.append(round(cursor - 0.08, 3))
            ends.append(round(cursor, 3))
        step = max(2, len(word)) * 0.06 / len(word)
        for ch in word:
            chars.append(ch)
            starts.append(round(cursor, 3))
            cursor += step
            ends.append(round(cursor, 3))
        cursor += 0.08
    return {"characters": chars, "character_start_times_seconds": starts, "character_end_times_seconds": ends}


class ElevenLabsFake(FakeServer):
    def __init__(self, model: str = "eleven_multilingual_v2") -> None:
        super().__init__()
        self.model = model
        self.route("POST", r"/v1/text-to-speech/(?P<voice>\w+)/with-timestamps", self._tts)

    def error(self, status: int, headers: dict[str, str] | None = None, word: str = "", text: str = "") -> Response:
        defaults = {401: ("invalid_api_key", "Invalid API key"), 404: ("voice_not_found", "Voice not found"),
                    429: ("too_many_concurrent_requests", "Too many concurrent requests.")}
        status_word, message = defaults.get(status, ("system_busy" if status >= 500 else "bad_request", "Error"))
        body: Any = {"detail": {"status": word or status_word, "message": text or message}}
        if status == 422:
            body = {"detail": [{"loc": ["body", "text"], "msg": text or "field required", "type": "missing"}]}
        return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)

    def _tts(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("xi-api-key") != KEY:
            return self.error(401)
        body = request.get_json(silent=True)
        self.record("tts", {"voice_id": match["voice"], "query": dict(request.args), **(body or {})})
        problem = self.require(body, {"text": str, "model_id": str}, {"voice_settings": dict}, "tts")
        if problem or match["voice"] not in VOICE_IDS or body["model_id"] != self.model \
                or request.args.get("output_format") != "pcm_24000" or not body["text"].strip():
            with self._lock:
                self.problems.append(problem or f"tts: bad values {body} {dict(request.args)}")
            return self.error(422, text=problem or "bad values")
        if self.content_policy:
            return self.error(400, word="content_against_policy",
                              text="This request was flagged by our moderation system.")
        time.sleep(self.latency.get("speech", 0))
        pcm = media.speech_pcm(body["text"])
        timing = alignment(body["text"])
        return Response(json.dumps({"audio_base64": base64.b64encode(pcm).decode(), "alignment": timing,
                                    "normalized_alignment": timing}), mimetype="application/json")
