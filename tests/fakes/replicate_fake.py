"""Replicate's wire protocol: official-model predictions, polling, cancel, and hosted output files (PNG stills, MP4
clips, WAV music).

``POST /v1/models/{owner}/{name}/predictions`` answers 201 with a prediction (``status: starting``); ``GET
/v1/predictions/{id}`` moves it to ``processing`` and, once the model's latency has passed, ``succeeded`` with the
output URL (or ``failed`` with the safety checker's error); ``POST /v1/predictions/{id}/cancel`` cancels it.
Errors are problem details: ``{"title", "detail", "status"}``. Inputs are checked against each model's schema.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import uuid
from typing import Any

from PIL import Image
from werkzeug.wrappers import Request, Response

from tests.fakes import media
from tests.fakes.server import FakeServer

TOKEN = "r8_fakeReplicateToken0000000000000000000"
ASPECTS = {"16:9": (1344, 768), "9:16": (768, 1344), "1:1": (1024, 1024)}
_FLUX: dict[str, Any] = {"prompt": str, "aspect_ratio": str, "seed": int, "output_format": str}
_PLAIN: dict[str, Any] = {"prompt": str, "aspect_ratio": str}
#: model -> (required inputs, kind, allowed durations)
MODELS: dict[str, tuple[dict[str, Any], str, tuple[int, ...]]] = {
    "black-forest-labs/flux-1.1-pro": (_FLUX, "image", ()),
    "black-forest-labs/flux-pro": (_FLUX, "image", ()),
    "black-forest-labs/flux-1.1-pro-ultra": (_FLUX, "image", ()),
    "stability-ai/stable-diffusion-3.5-large": (_FLUX, "image", ()),
    "google/imagen-3": (_PLAIN, "image", ()),
    "recraft-ai/recraft-v3": (_PLAIN, "image", ()),
    "kwaivgi/kling-v1.6-pro": ({"prompt": str, "start_image": str, "duration": int}, "clip", (5, 10)),
    "luma/ray-2-720p": ({"prompt": str, "start_image": str, "duration": int}, "clip", (5, 9)),
    "minimax/video-01": ({"prompt": str, "first_frame_image": str, "prompt_optimizer": bool}, "clip", ()),
    "runwayml/gen4-turbo": ({"prompt": str, "image": str, "duration": int, "aspect_ratio": str}, "clip", (5, 10)),
    "stability-ai/stable-audio-2.5": ({"prompt": str, "duration": int, "seed": int}, "music", tuple(range(1, 191))),
}
NSFW = "NSFW content detected. Try running it again, or try a different prompt."


def _is_image_data_url(value: str) -> bool:
    if not value.startswith(("data:image/jpeg;base64,", "data:image/png;base64,")):
        return False
    try:
        with Image.open(io.BytesIO(base64.b64decode(value.split(",", 1)[1]))) as image:
            image.verify()
    except (OSError, ValueError):
        return False
    return True


class ReplicateFake(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.predictions: dict[str, dict[str, Any]] = {}
        self._plock = threading.Lock()
        self.route("POST", r"/v1/models/(?P<owner>[\w.\-]+)/(?P<name>[\w.\-]+)/predictions", self._create)
        self.route("GET", r"/v1/predictions/(?P<id>\w+)", self._get)
        self.route("POST", r"/v1/predictions/(?P<id>\w+)/cancel", self._cancel)

    def error(self, status: int, headers: dict[str, str] | None = None, detail: str = "") -> Response:
        titles = {401: ("Unauthenticated", "You did not pass a valid authentication token"),
                  402: ("Payment required", "You have insufficient credit to run this model."),
                  404: ("Not found", "The requested resource could not be found."),
                  422: ("Input validation failed", detail or "input is invalid"),
                  429: ("Too Many Requests", "Request was throttled.")}
        title, text = titles.get(status, ("Internal Server Error" if status >= 500 else "Bad request", detail or ""))
        return Response(json.dumps({"title": title, "detail": detail or text, "status": status}), status=status,
                        mimetype="application/problem+json", headers=headers)

    def problem(self, text: str, status: int = 422) -> Response:
        with self._lock:
            self.problems.append(text)
        return self.error(status, detail=text)

    def _check(self, model: str, body: Any) -> str | None:
        if model not in MODELS:
            return f"unknown model {model}"
        if (problem := self.require(body, {"input": dict}, {}, model)) is not None:
            return problem
        spec, _, durations = MODELS[model]
        inputs = body["input"]
        if (problem := self.require(inputs, spec, {}, f"{model} input")) is not None:
            return problem
        if "aspect_ratio" in inputs and inputs["aspect_ratio"] not in ASPECTS:
            return f"{model}: aspect_ratio {inputs['aspect_ratio']}"
        if inputs.get("output_format", "png") != "png" or (durations and inputs["duration"] not in durations):
            return f"{model}: bad output_format/duration in {inputs}"
        for field in ("start_image", "first_frame_image", "image"):
            if field in inputs and not _is_image_data_url(inputs[field]):
                return f"{model}: {field} is not an image data URL"
        return None

    def _create(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401)
        model, body = f"{match['owner']}/{match['name']}", request.get_json(silent=True)
        self.record(model, body["input"] if isinstance(body, dict) and "input" in body else body)
        if (problem := self._check(model, body)) is not None:
            return self.problem(problem)
        pid = uuid.uuid4().hex[:26]
        kind = MODELS[model][1]
        prediction = {
            "id": pid, "model": model, "version": "hidden", "input": body["input"], "logs": "", "output": None,
            "data_removed": False, "error": None, "status": "starting", "created_at": _now(), "started_at": None,
            "completed_at": None, "metrics": {},
            "urls": {"get": f"{self.url}/v1/predictions/{pid}", "cancel": f"{self.url}/v1/predictions/{pid}/cancel",
                     "web": f"https://replicate.com/p/{pid}"},
        }
        with self._plock:
            self.predictions[pid] = {"public": prediction, "ready": time.monotonic() + self.latency.get(kind, 0),
                                     "kind": kind, "refuse": self.content_policy}
        return Response(json.dumps(prediction), status=201, mimetype="application/json")

    def _advance(self, pid: str) -> dict[str, Any] | None:
        with self._plock:
            entry = self.predictions.get(pid)
            if entry is None:
                return None
            public = entry["public"]
            if public["status"] in ("succeeded", "failed", "canceled"):
                return dict(public)
            if time.monotonic() < entry["ready"]:
                public |= {"status": "processing", "started_at": public["started_at"] or _now()}
                return dict(public)
            public |= {"completed_at": _now(), "metrics": {"predict_time": 0.1}}
            if entry["refuse"]:
                public |= {"status": "failed", "error": NSFW}
                return dict(public)
        if entry["kind"] == "image":
            size = ASPECTS[public["input"].get("aspect_ratio", "1:1")]
            url = self.host_file(f"{pid}.png", media.png(*size), "image/png")
        elif entry["kind"] == "music":
            url = self.host_file(f"{pid}.wav", media.music_wav(public["input"]["duration"]), "audio/wav")
        else:
            url = self.host_file(f"{pid}.mp4", media.mp4(float(public["input"].get("duration", 5))), "video/mp4")
        with self._plock:
            public |= {"status": "succeeded", "output": url}
            return dict(public)

    def _get(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401)
        public = self._advance(match["id"])
        return self.error(404) if public is None else Response(json.dumps(public), mimetype="application/json")

    def _cancel(self, request: Request, match: re.Match[str]) -> Response:
        with self._plock:
            entry = self.predictions.get(match["id"])
            if entry is None:
                return self.error(404)
            if entry["public"]["status"] in ("starting", "processing"):
                entry["public"] |= {"status": "canceled", "completed_at": _now()}
            return Response(json.dumps(entry["public"]), mimetype="application/json")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
