"""A caller's own still or clip (``image_url`` / ``video_url``), fetched, checked and stored like any asset.

The file is fetched every run (what a URL serves can change), then stored under a key of the URL *and* the bytes'
hash, so the same file yields the same key and everything made from it (the scene clip, the joined video) comes
from the cache. Before it is used it must be of an allowed type, within ``REELFLOW_MAX_MEDIA_MB`` and decodable
by ffmpeg; otherwise the task fails (without retries) and the job is FAILED with a message naming the scene.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from prefect import task
from prefect.futures import PrefectFuture

from core.errors import FatalProviderError, RenderError
from core.results import SceneSpec, VoiceAsset
from core.settings import get_settings
from core.storage import content_key
from media.probe import probe_decodable
from providers.media_fetch import PROVIDER, fetch
from tasks.common import configured, record_renderer, storage, workdir
from tasks.images import make_image
from tasks.video import animate

Kind = Literal["image", "video"]
TYPES: dict[str, dict[str, str]] = {
    "image": {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"},
    "video": {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"},
}


def _check(data: bytes, ext: str, field: str) -> None:
    """Decode the file once (a corrupt or truncated file fails here, not halfway through the render)."""
    with workdir() as tmp:
        path = tmp / f"caller.{ext}"
        path.write_bytes(data)
        try:
            info = probe_decodable(path)
        except RenderError as exc:
            raise FatalProviderError(f"{field}: the file is not a readable {ext.upper()} ({exc})",
                                     provider=PROVIDER) from exc
    if ext in TYPES["video"].values() and info.duration <= 0:
        raise FatalProviderError(f"{field}: the clip has no duration", provider=PROVIDER)


@task(name="fetch-media", task_run_name="{kind}-url-{scene.index}")
def fetch_media(scene: SceneSpec, kind: Kind) -> str:
    """Download, check and store the scene's ``image_url`` or ``video_url``; return its storage key."""
    settings = get_settings()
    field = f"{kind}_url"
    url = scene.image_url if kind == "image" else scene.video_url
    if not url:
        raise FatalProviderError(f"{field}: no URL for scene {scene.index}", provider=PROVIDER)
    got = fetch(url, field=field, max_bytes=int(settings.max_media_mb * 2**20), timeout=settings.provider_timeout,
                allow_private=settings.webhook_allow_private)
    ext = TYPES[kind].get(got.content_type)
    if ext is None:
        allowed = ", ".join(TYPES[kind])
        raise FatalProviderError(f"{field}: content type '{got.content_type or 'none'}' is not allowed; use one of "
                                 f"{allowed}", provider=PROVIDER)
    key = content_key("caller", ext, url=url, sha256=hashlib.sha256(got.data).hexdigest())
    store = storage()
    if not store.exists(key):
        _check(got.data, ext, field)
        record_renderer(key, PROVIDER)
        store.put_bytes(key, got.data)
    return key


def still(scene: SceneSpec, model: str, width: int, height: int, aspect_ratio: str) -> PrefectFuture[str]:
    """Submit what makes the scene's still: the caller's image when given, else the image model's."""
    if scene.image_url:
        return configured(fetch_media).submit(scene, "image")
    return configured(make_image).submit(scene, model, width, height, aspect_ratio)


def clip(scene: SceneSpec, image: PrefectFuture[str], voice: PrefectFuture[VoiceAsset] | None, model: str,
         width: int, height: int, fps: int, generative: bool) -> PrefectFuture[Any] | None:
    """Submit what makes the scene's clip: the caller's video when given, else a generated one (or none)."""
    if scene.video_url:
        return configured(fetch_media).submit(scene, "video")
    if generative:
        return configured(animate).submit(scene, image, voice, model, width, height, fps)
    return None
