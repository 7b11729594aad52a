"""The seed's endpoints under ``/v1/video``: create_narrative, create_movie, status, cancel; and webhook_secret."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from adapter.auth import KeyIdDep
from adapter.errors import Gone, PayloadTooLarge, Unavailable
from adapter.jobs import Jobs
from core.contract import MovieRequest, NarrativeRequest, parse_movie, parse_narrative
from core.errors import InvalidRequest, NotFound
from core.housekeeping import below_floor, read_tombstone
from core.jobstate import STATUSES
from core.netguard import check_public_target, check_webhook_target
from core.secrets import webhook_secret_for
from core.settings import get_settings
from core.storage import open_storage
from core.styles import MusicOptions
from core.textrules import json_depth_problem
from flows.names import MOVIE, NARRATIVE
from providers import registry

router = APIRouter(prefix="/v1/video", tags=["video"])
MAX_BODY = 256 * 1024
DEFAULT_PAGE, MAX_PAGE = 50, 200
ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}}}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Missing/empty API_KEY, or invalid input", **ERROR},
    401: {"description": "Unknown API_KEY", **ERROR},
    503: {"description": "The job service is unreachable", **ERROR},
}
CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Body too large", **ERROR},
    429: {"description": "Too many jobs pending or in progress for this key (see Retry-After)", **ERROR},
    **AUTH_ERRORS,
}
ApiKeyHeader = Annotated[str | None, Header(alias="API_KEY", description="Your API key (or header `api_key`).")]


async def read_json(request: Request) -> Any:
    """The request body as JSON, refusing oversized or malformed bodies with a clear message."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(f"request body is larger than {MAX_BODY // 1024} KiB.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise PayloadTooLarge(f"request body is larger than {MAX_BODY // 1024} KiB.")
    if not body.strip():
        raise InvalidRequest("body: a JSON object with an 'input' object is required.")
    if (too_deep := json_depth_problem(bytes(body))) is not None:  # before the parser recurses into it
        raise InvalidRequest(f"{too_deep}.")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidRequest(f"body: not valid JSON ({exc}).") from exc


async def guard_webhook(url: str | None, field: str = "webhookUrl") -> None:
    """Refuse webhook (or caller media) targets on private addresses (SSRF), resolving DNS off the event loop.

    ``field`` names where the URL came from in the message (media URLs follow the webhook rule).
    """
    if not url:
        return
    try:
        await asyncio.to_thread(check_webhook_target, url, allow_private=get_settings().webhook_allow_private)
    except InvalidRequest as exc:
        if field == "webhookUrl":
            raise
        raise InvalidRequest(str(exc).replace("webhookUrl:", f"{field}:", 1).replace(
            "webhooks only go to", "media is only fetched from")) from exc


async def guard_music(music: MusicOptions) -> None:
    """Refuse a caller's music track on a private address at create (a 400 naming the field) rather than as a failed
    job; the fetch checks again, since DNS may answer differently by then."""
    if music.enabled and music.url is not None:
        allow = get_settings().music_url_allow_private
        await asyncio.to_thread(check_public_target, music.url, allow_private=allow, field="input.music.url",
                                rule="music tracks are only fetched from public addresses")
def refuse_when_low_on_space() -> None:
    """503 before the disk fills: a job needs room for its renders (``REELFLOW_MIN_FREE_MB``)."""
    settings = get_settings()
    if (low := below_floor(settings.data_dir, settings.min_free_mb)) is not None:
        raise Unavailable(low)


def _jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


@router.post(
    "/create_narrative",
    operation_id="create_narrative",
    summary="Create a narrative video from lines of text",
    responses={200: {"description": "The request id to poll"}, **CREATE_ERRORS},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/NarrativeRequest"}}}}},
)
async def create_narrative(
    request: Request,
    kid: KeyIdDep,
    api_key: ApiKeyHeader = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, str]:
    narrative: NarrativeRequest = parse_narrative(await read_json(request))
    if (unavailable := registry.availability_error(narrative.input)) is not None:
        raise InvalidRequest(unavailable)  # e.g. "FLUX1.1PRO needs REPLICATE_API_TOKEN on this server"
    await guard_webhook(narrative.webhookUrl)
    await guard_music(narrative.input.music)
    for number, media in narrative.input.scene_media.items():  # caller media: the webhook SSRF rule, by field
        for field in ("image_url", "video_url"):
            await guard_webhook(getattr(media, field), f"input.prompt_list.{number}.{field}")
    refuse_when_low_on_space()
    request_id = await _jobs(request).create(
        NARRATIVE, {"request": narrative.model_dump(mode="json")}, kid, idempotency_key,
        webhook=narrative.webhookUrl is not None,
    )
    return {"request_id": request_id}


@router.post(
    "/create_movie",
    operation_id="create_movie",
    summary="Create a movie of an exact duration from one prompt",
    responses={200: {"description": "The request id to poll"}, **CREATE_ERRORS},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/MovieRequest"}}}}},
)
async def create_movie(
    request: Request,
    kid: KeyIdDep,
    api_key: ApiKeyHeader = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, str]:
    movie: MovieRequest = parse_movie(await read_json(request))
    spec = movie.input
    keys = [spec.image_model or "", spec.video_model or "", *([spec.voice.provider] if spec.narration else [])]
    if (unavailable := next(filter(None, map(registry.check_available, keys)), None)) is not None:
        raise InvalidRequest(unavailable)
    await guard_webhook(movie.webhookUrl)
    await guard_music(movie.input.music)
    refuse_when_low_on_space()
    request_id = await _jobs(request).create(
        MOVIE, {"request": movie.model_dump(mode="json")}, kid, idempotency_key, webhook=movie.webhookUrl is not None,
    )
    return {"request_id": request_id}


@router.get(
    "/status",
    operation_id="get_status",
    summary="Status, progress and result of a request",
    responses={404: {"description": "Unknown request id (or another key's)", **ERROR},
               410: {"description": "The request is past retention; its files were deleted", **ERROR}, **AUTH_ERRORS},
)
async def get_status(
    request: Request,
    kid: KeyIdDep,
    request_id: Annotated[str | None, Query(description="The id from create_narrative or create_movie")] = None,
    api_key: ApiKeyHeader = None,
) -> JSONResponse:
    if request_id is None or not request_id.strip():
        raise InvalidRequest("request_id query parameter is missing.")
    try:
        body = await _jobs(request).status(request_id.strip(), kid, str(request.base_url))
    except NotFound:
        await refuse_when_swept(request_id.strip(), kid)
        raise
    if body.get("status") == "COMPLETED" and body.get("result") is None:  # its files are gone: swept?
        await refuse_when_swept(request_id.strip(), None)
    return JSONResponse(body)


async def refuse_when_swept(request_id: str, kid: str | None) -> None:
    """410 for the owner of a job the retention flow swept; others get 404. ``kid`` None: ownership was already
    checked (the caller's own job record); else the tombstone must name the caller (its run is gone too)."""
    settings = get_settings()
    stone = await asyncio.to_thread(read_tombstone, open_storage(settings.media_url), request_id)
    if stone is not None and (kid is None or stone.get("owner") == kid):
        raise Gone(f"request {request_id} is past retention (REELFLOW_RETENTION_DAYS={settings.retention_days:g}): "
                   f"its files and record were deleted on {str(stone.get('swept_at', ''))[:10]}.")


@router.post(
    "/cancel",
    operation_id="cancel",
    summary="Cancel a request that has not finished",
    responses={404: {"description": "Unknown request id", **ERROR}, 409: {"description": "Already finished", **ERROR},
               **AUTH_ERRORS},
)
async def cancel(
    request: Request,
    kid: KeyIdDep,
    request_id: Annotated[str | None, Query()] = None,
    api_key: ApiKeyHeader = None,
) -> JSONResponse:
    if request_id is None or not request_id.strip():
        raise InvalidRequest("request_id query parameter is missing.")
    return JSONResponse(await _jobs(request).cancel(request_id.strip(), kid))


@router.get(
    "/requests",
    operation_id="list_requests",
    summary="The caller's requests, newest first (API extension): status, progress, kind, created; cursor pages",
    responses=AUTH_ERRORS,
)
async def list_requests(
    request: Request,
    kid: KeyIdDep,
    status: Annotated[str | None, Query(description="Only requests in this status")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[str | None, Query(description=f"Page size, 1–{MAX_PAGE} (default {DEFAULT_PAGE})")] = None,
    api_key: ApiKeyHeader = None,
) -> JSONResponse:
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"status: must be one of {', '.join(STATUSES)}.")
    size = _int_param("limit", limit, DEFAULT_PAGE, 1, MAX_PAGE)
    before = _int_param("cursor", cursor, None, 1, 2**62)
    items = await _jobs(request).list(kid, status, before, size + 1)
    page = items[:size]
    next_cursor = str(page[-1]["cursor"]) if len(items) > size else None
    for item in page:
        item.pop("cursor")
    return JSONResponse({"requests": page, "next_cursor": next_cursor})


def _int_param(name: str, raw: str | None, default: int | None, low: int, high: int) -> int | None:
    """A whole-number query parameter within [low, high], else a 400 naming it (never FastAPI's 422)."""
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise InvalidRequest(f"{name}: must be a whole number from {low} to {high}.")
    return int(raw)


@router.get(
    "/webhook_secret",
    operation_id="get_webhook_secret",
    summary="The secret that verifies the signature of your webhooks",
    responses={200: {"description": "Your key's Standard Webhooks secret",
                     "content": {"application/json": {"example": {"secret": "whsec_..."}}}}, **AUTH_ERRORS},
)
async def get_webhook_secret(kid: KeyIdDep, api_key: ApiKeyHeader = None) -> dict[str, str]:
    """Each API key's callbacks are signed with its own secret, so a caller can verify its callbacks and nobody
    else's (derived from the server secret, see ``core.secrets``)."""
    return {"secret": await asyncio.to_thread(webhook_secret_for, get_settings(), kid)}
