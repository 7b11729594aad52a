"""Download links for published files: signed local links (served by the API) or S3 presigned URLs.

Used by ``/status`` and by webhooks, so a callback carries the same links a status read would.
"""

from __future__ import annotations

import json
from typing import Any

from core.secrets import link_secret
from core.settings import get_settings
from core.storage import open_storage, signed_file_query


def default_base_url() -> str:
    """Where the API is reachable when no request tells us (webhooks): the public URL, else the API address."""
    settings = get_settings()
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host
    return settings.public_url or f"http://{host}:{settings.api_port}"


#: The longest expiry S3 accepts for a SigV4 presigned URL (7 days).
S3_MAX_TTL = 7 * 24 * 3600


def link(key: str, base_url: str | None = None, ttl: int | None = None) -> str:
    """A time-limited download URL for a storage key, valid ``ttl`` seconds (default ``REELFLOW_LINK_TTL``)."""
    settings = get_settings()
    ttl = ttl or settings.link_ttl
    store = open_storage(settings.media_url)
    if not store.is_local:
        return store.presigned_url(key, min(ttl, S3_MAX_TTL))
    base = (settings.public_url or base_url or default_base_url()).rstrip("/")
    return f"{base}/v1/video/files/{signed_file_query(link_secret(settings), key, ttl)}"


def result_links(raw: dict[str, Any], base_url: str | None = None) -> dict[str, Any]:
    """The result as callers see it: storage keys turned into links."""
    body = {
        "videoUrl": link(raw["video"], base_url),
        "captions": {"srt": link(raw["srt"], base_url), "vtt": link(raw["vtt"], base_url)},
        "posterUrl": link(raw["poster"], base_url),
        "duration": raw["duration"],
        "width": raw["width"],
        "height": raw["height"],
        "aspect_ratio": raw["aspect_ratio"],
        "size_bytes": raw["size_bytes"],
        "rendered_by": raw["rendered_by"],
        "renderers": raw.get("renderers", {}),
        "scenes": [
            {"index": s["index"], "text": s["text"], "duration": s["duration"],
             "imageUrl": link(s["image"], base_url), "clipUrl": link(s["clip"], base_url),
             "rendered_by": s.get("rendered_by", {}),
             **({"reused": s["reused"]} if s.get("reused") is not None else {})}
            for s in raw.get("scenes", [])
        ],
    }
    if raw.get("edited_from"):  # an edit (API extension): which request it was made from
        body["edited_from"] = raw["edited_from"]
    return body


def result_with_links(request_id: str, base_url: str | None = None) -> dict[str, Any] | None:
    """The published ``result.json`` of a finished job with links, or None if there is none."""
    store = open_storage(get_settings().media_url)
    key = f"jobs/{request_id}/result.json"
    if not store.exists(key):
        return None
    return result_links(json.loads(store.get_bytes(key)), base_url)
