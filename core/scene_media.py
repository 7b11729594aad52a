"""Caller media per scene (an API extension): ``prompt_list`` objects and the URL rule for a caller's file.

Kept apart from ``core.contract`` (which imports it) so the seed's contract stays the seed's; the rules match the
webhook URL rules there (absolute http(s) with a host), plus: no credentials in the URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, StrictStr, field_validator
from pydantic_core import PydanticCustomError


def _fail(message: str, field: str | None = None) -> PydanticCustomError:
    """As ``core.contract._fail``: a validation error shown as is, naming ``field`` when a model rule raises it."""
    return PydanticCustomError("reelflow", message.replace("{", "(").replace("}", ")"), {"field": field or ""})


def check_media_url(value: str | None) -> str | None:
    """A caller's media URL follows the webhook rules: absolute http(s), a host, no credentials in it."""
    if value is None:
        return None
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail("must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise _fail("must not carry credentials")
    return url


class SceneMedia(BaseModel):
    """A caller's own still or clip for one scene (an API extension): used instead of a generated one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_url: StrictStr | None = None
    video_url: StrictStr | None = None

    _urls = field_validator("image_url", "video_url")(classmethod(lambda cls, v: check_media_url(v)))


def scene_objects(data: Any) -> Any:
    """``prompt_list`` items may be ``{"text", "image_url", "video_url"}`` objects: keep the text as the line and
    move the media into ``scene_media`` (by 1-based scene number), so the rest of the code sees lines as before.

    A body without objects passes through untouched, which is also how a flow re-reads its dumped parameters.
    """
    if not isinstance(data, dict):
        return data
    lines = data.get("prompt_list")
    if not isinstance(lines, list) or not any(isinstance(item, dict) for item in lines):
        return data
    media: dict[int, Any] = {}
    kept: list[Any] = []
    for item in lines:
        if isinstance(item, dict):
            extra = set(item) - {"text", "image_url", "video_url"}
            if extra:
                raise _fail(f"unknown field(s) {', '.join(sorted(extra))} in a scene object; use text, image_url, "
                            "video_url", "prompt_list")
            text = item.get("text")
            if not isinstance(text, str) or not text.strip():
                raise _fail("every scene object needs a non-empty 'text' string", "prompt_list")
            if item.get("image_url") is not None or item.get("video_url") is not None:
                media[len(kept) + 1] = {k: item[k] for k in ("image_url", "video_url") if item.get(k) is not None}
            item = text
        if isinstance(item, str) and not item.strip():
            continue  # blank lines are dropped, so scene numbers count only real lines
        kept.append(item)
    return {**data, "prompt_list": kept, "scene_media": media}
