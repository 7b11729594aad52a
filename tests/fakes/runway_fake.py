"""Runway's wire protocol: ``POST /v1/image_to_video`` → ``{"id"}``, ``GET /v1/tasks/{id}``, ``DELETE /v1/tasks/{id}``.

Requests need ``Authorization: Bearer <secret>`` and ``X-Runway-Version: 2024-11-06``. A task goes PENDING →
RUNNING → SUCCEEDED (``output``: URLs) or FAILED (``failure``, ``failureCode`` such as ``SAFETY.INPUT.IMAGE``).
Errors are ``{"error": "..."}``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes import media
from tests.fakes.replicate_fake import _is_image_data_url
from tests.fakes.server import FakeServer

SECRET = "key_fakeRunwaySecret000000000000000000000000"
VERSION = "2024-11-06"
RATIOS = {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}


class RunwayFake(FakeServer):
    def __init__(self, model: str = "gen4_turbo") -> None:
        super().__init__()
        self.model = model
        self.tasks: dict[str, dict[str, Any]] = {}
        self._tlock = threading.Lock()
        self.route("POST", r"/v1/image_to_video", self._create)
        self.route("GET", r"/v1/tasks/(?P<id>[\w\-]+)", self._get)
        self.route("DELETE", r"/v1/tasks/(?P<id>[\w\-]+)", self._delete)

    def error(self, status: int, headers: dict[str, str] | None = None, text: str = "") -> Response:
        default = {401: "Invalid API key", 429: "You have exceeded the rate limit.", 404: "Not found"}
        message = text or default.get(status, "Internal server error" if status >= 500 else "Bad request")
        return Response(json.dumps({"error": message}), status=status, mimetype="application/json", headers=headers)

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {SECRET}":
            return self.error(401)
        if request.headers.get("X-Runway-Version") != VERSION:
            return self.error(400, text="X-Runway-Version header is required")
        return None

    def _create(self, request: Request, _: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        self.record("image_to_video", body)
        problem = self.require(body, {"model": str, "promptImage": str, "ratio": str, "duration": int},
                               {"promptText": str, "seed": int}, "image_to_video")
        if problem or body["model"] != self.model or body["ratio"] not in RATIOS or body["duration"] not in (5, 10) \
                or not _is_image_data_url(body["promptImage"]) or len(body.get("promptText", "")) > 1000:
            return self.problem(problem or "image_to_video: bad values")
        task_id = str(uuid.uuid4())
        with self._tlock:
            self.tasks[task_id] = {"status": "PENDING", "createdAt": _now(), "duration": body["duration"],
                                   "ready": time.monotonic() + self.latency.get("clip", 0),
                                   "refuse": self.content_policy}
        return Response(json.dumps({"id": task_id}), mimetype="application/json")

    def _get(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        task_id = match["id"]
        with self._tlock:
            task = self.tasks.get(task_id)
        if task is None:
            return self.error(404)
        public: dict[str, Any] = {"id": task_id, "createdAt": task["createdAt"]}
        if task["status"] == "CANCELLED":
            public |= {"status": "CANCELLED", "cost": {"credits": 0}}
        elif time.monotonic() < task["ready"]:
            public |= {"status": "RUNNING", "progress": 0.5, "estimatedCost": {"credits": 25}}
        elif task["refuse"]:
            public |= {"status": "FAILED", "failure": "The input image was flagged by our content moderation.",
                       "failureCode": "SAFETY.INPUT.IMAGE", "cost": {"credits": 0}}
        else:
            url = self.host_file(f"{task_id}.mp4", media.mp4(float(task["duration"])), "video/mp4")
            public |= {"status": "SUCCEEDED", "output": [url], "cost": {"credits": 25}}
        return Response(json.dumps(public), mimetype="application/json")

    def _delete(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        with self._tlock:
            task = self.tasks.get(match["id"])
            if task is None:
                return self.error(404)
            task["status"] = "CANCELLED"
        return Response(status=204)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
