"""``POST /v1/video/edit`` (an API extension): a new job that replays a COMPLETED job with per-scene changes.

The edit is a normal job made by the same ``Jobs.create`` as ``create_narrative`` / ``create_movie``: its
parameters are the original request plus an ``edit`` plan (``core.edits``), so status, progress, webhooks, cancel
and listing work as for any job, and the cache makes every unchanged scene free.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from adapter.auth import KeyIdDep
from adapter.errors import Conflict
from adapter.video import AUTH_ERRORS, ERROR, ApiKeyHeader, _jobs, guard_webhook, read_json
from core.contract import parse_movie, parse_narrative
from core.edits import EditPlan, EditRequest, parse_edit, plan_edit
from core.errors import InvalidRequest
from core.jobstate import COMPLETED
from core.settings import get_settings
from core.storage import open_storage
from flows.names import MOVIE, NARRATIVE

router = APIRouter(prefix="/v1/video", tags=["video"])


def _raw_result(request_id: str) -> dict[str, Any]:
    store = open_storage(get_settings().media_url)
    key = f"jobs/{request_id}/result.json"
    if not store.exists(key):  # COMPLETED but its files were swept (retention): nothing left to edit
        raise Conflict(f"request {request_id} has no result any more; create it again instead of editing it.")
    raw: dict[str, Any] = json.loads(store.get_bytes(key))
    return raw


async def _new_parameters(edit: EditRequest, deployment: str, run_parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters of the edited job (same deployment): the original request (new webhook) plus the edit plan."""
    if deployment not in (MOVIE, NARRATIVE):
        raise InvalidRequest(f"request_id: request {edit.request_id} is not a narrative or a movie; only those can "
                             "be edited.")
    original = dict(run_parameters.get("request") or {})
    original["webhookUrl"] = edit.webhookUrl
    is_movie = deployment == MOVIE
    request = parse_movie(original) if is_movie else parse_narrative(original)
    raw = await asyncio.to_thread(_raw_result, edit.request_id)
    clips = {int(s["index"]): str(s["clip"]) for s in raw.get("scenes", [])}
    generative = is_movie or bool(getattr(request.input, "add_generative_video", False))
    previous = EditPlan.model_validate(run_parameters["edit"]) if run_parameters.get("edit") else None
    plan = plan_edit(edit, previous, clips, generative)
    return {"request": request.model_dump(mode="json"), "edit": plan.model_dump(mode="json")}


@router.post(
    "/edit",
    operation_id="edit",
    summary="Edit a finished video: reroll scenes, change lines, use your own stills and clips (extension)",
    responses={200: {"description": "The new request id to poll"},
               404: {"description": "Unknown request id (or another key's)", **ERROR},
               409: {"description": "The request is not COMPLETED", **ERROR}, **AUTH_ERRORS},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/EditRequest"}}}}},
)
async def edit(
    request: Request,
    kid: KeyIdDep,
    api_key: ApiKeyHeader = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, str]:
    body = parse_edit(await read_json(request))
    for number, change in body.scenes.items():
        await guard_webhook(change.image_url, f"scenes.{number}.image_url")  # caller media: the webhook SSRF rule
        await guard_webhook(change.video_url, f"scenes.{number}.video_url")
    await guard_webhook(body.webhookUrl)
    jobs = _jobs(request)
    status = (await jobs.status(body.request_id, kid, str(request.base_url)))["status"]  # 404 as for /status
    if status != COMPLETED:
        raise Conflict(f"request {body.request_id} is {status}; only a COMPLETED video can be edited.")
    source = await jobs.source(body.request_id, kid)
    parameters = await _new_parameters(body, source.kind, dict(source.parameters or {}))
    request_id = await jobs.create(source.kind, parameters, kid, idempotency_key, webhook=body.webhookUrl is not None)
    return {"request_id": request_id}
