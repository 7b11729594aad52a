"""Signed, expiring download links for local storage (the local stand-in for S3 presigned URLs).

``GET /v1/video/files/<key>?expires=..&signature=..`` needs no API key; the HMAC binds the key and the expiry,
and a key can never leave the media root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from adapter.errors import Forbidden
from core.errors import InvalidRequest, NotFound
from core.secrets import link_secret
from core.settings import get_settings
from core.storage import open_storage, verify_signature

router = APIRouter(prefix="/v1/video/files", tags=["files"])
MEDIA_TYPES = {".mp4": "video/mp4", ".srt": "application/x-subrip", ".vtt": "text/vtt", ".jpg": "image/jpeg",
               ".png": "image/png", ".wav": "audio/wav", ".json": "application/json"}


@router.get("/{key:path}", operation_id="download_file", summary="Download a generated file by signed link",
            responses={403: {"description": "Bad or expired signature"}, 404: {"description": "No such file"}})
async def download(
    key: str,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query()],
) -> FileResponse:
    settings = get_settings()
    store = open_storage(settings.media_url)
    if not store.is_local:
        raise NotFound("files are served by the object store; use the presigned URL.")
    if not verify_signature(link_secret(settings), key, expires, signature):
        raise Forbidden("this link is invalid or has expired.")
    try:
        path = Path(store.path(key)).resolve()
    except InvalidRequest as exc:
        raise NotFound("no such file.") from exc
    if not path.is_relative_to(Path(store.root).resolve()) or not path.is_file():
        raise NotFound("no such file.")
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"))
