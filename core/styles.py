"""Sound and caption options of a request: the ``music`` and ``captions`` objects, with every validation rule.

They plug into the request models of :mod:`core.contract` as nested fields (``input.music``, ``input.captions``),
so they follow its conventions: values are never coerced (a string is not a number, ``true`` is not a volume), and
each broken rule raises one error whose text names the problem in plain words; ``core.rules.error_message``
prefixes the field path, e.g. ``input.music.volume: must be a number from 0.0 to 1.0, not 1.5``. This module must
not import :mod:`core.contract` (the contract imports it), hence its own ``_fail``.

Defaults per endpoint (the issue's rule): no music for narratives (the seed behaviour), ``calm`` for movies;
``classic`` captions everywhere.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from core.textrules import text_problem

#: The offline generator's moods (``media.music.MOODS``) plus "none" (no music).
MOODS = ("calm", "uplifting", "dramatic", "playful", "dark", "none")
CAPTION_STYLES = ("classic", "karaoke", "none")
POSITIONS = ("bottom", "middle", "top")
#: Music level under the narration: 1.0 puts the bed 6 dB under the voice between lines (see media.mix).
DEFAULT_VOLUME = 0.5
#: Caption text height in pixels on a 1080-pixel short side (scaled to the output size); unset: sized from the frame.
MIN_FONT_SIZE, MAX_FONT_SIZE = 16, 120
DEFAULT_COLOR, DEFAULT_HIGHLIGHT = "#FFFFFF", "#FFD700"
#: Longest URL we accept (browsers' and CDNs' common limit): a longer one is a mistake or an attack.
MAX_URL_CHARS = 2048
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _fail(message: str) -> PydanticCustomError:
    """A validation error whose text ``core.rules.error_message`` shows as is after the field's path."""
    return PydanticCustomError("reelflow", message.replace("{", "(").replace("}", ")"), {"field": ""})


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"must be a string, one of: {', '.join(allowed)}")
    if value not in allowed:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise _fail(f"'{shown}' is not a known {what}; use one of: {', '.join(allowed)}")
    return value


def _known_fields(data: Any, model: type[BaseModel], name: str) -> Any:
    """Refuse unknown keys by name (a typo such as ``volumn`` must not be silently ignored)."""
    if not isinstance(data, dict):
        raise _fail(f"must be an object with the fields {', '.join(model.model_fields)}")
    unknown = [str(key) for key in data if key not in model.model_fields]
    if unknown:
        raise _fail(f"unknown field '{unknown[0][:40]}' in {name}; its fields are {', '.join(model.model_fields)}")
    return data


def check_public_url(value: Any) -> str:
    """An absolute http(s) URL with a host, a port in 1-65535 if one is given, no credentials, no whitespace or
    control characters, at most :data:`MAX_URL_CHARS` long: the same rules as webhook URLs. Whether the host is a
    public address is the SSRF guard's question, asked when the file is fetched (DNS may change until then)."""
    if not isinstance(value, str):
        raise _fail("must be a string holding an http:// or https:// URL")
    if len(value) > MAX_URL_CHARS:
        raise _fail(f"has {len(value)} characters; at most {MAX_URL_CHARS} are allowed")
    if _CONTROL.search(value):
        raise _fail("must not contain spaces or control characters")
    if (problem := text_problem(value)) is not None:  # e.g. an unpaired surrogate, which PostgreSQL would refuse
        raise _fail(problem)
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port that is not a number or is above 65535
    except ValueError as exc:
        raise _fail("is not a valid URL; the port, if any, must be a number from 1 to 65535") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail("must be an absolute http:// or https:// URL")
    if port == 0:
        raise _fail("has port 0; the port, if any, must be a number from 1 to 65535")
    if parts.username is not None or parts.password is not None:
        raise _fail("must not carry credentials (user:password@)")
    return value


class MusicOptions(BaseModel):
    """``music``: a generated bed in a mood, or the caller's own track (``url``), at ``volume`` under the voice."""

    model_config = ConfigDict(frozen=True)

    mood: StrictStr = "calm"
    volume: float = DEFAULT_VOLUME
    url: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _fields(cls, data: Any) -> Any:
        return _known_fields(data, cls, "music")

    @field_validator("mood", mode="before")
    @classmethod
    def _mood(cls, value: Any) -> str:
        return _one_of(value, MOODS, "mood")

    @field_validator("volume", mode="before")
    @classmethod
    def _volume(cls, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail("must be a number from 0.0 to 1.0 (a JSON number, not a string or a boolean)")
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise _fail(f"must be a number from 0.0 to 1.0, not {value:g}")
        return float(value)

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> str | None:
        return None if value is None else check_public_url(value)

    @model_validator(mode="after")
    def _consistent(self) -> MusicOptions:
        if self.url is not None and self.mood == "none":
            raise PydanticCustomError("reelflow", "mood 'none' turns music off, so a url makes no sense with it; "
                                      "leave out the url, or the mood", {"field": "mood"})
        return self

    @property
    def enabled(self) -> bool:
        """Whether the video gets music at all (mood "none" or volume 0 means narration only)."""
        return self.mood != "none" and self.volume > 0.0


class CaptionOptions(BaseModel):
    """``captions``: how burned-in captions look. The SRT/VTT sidecars do not depend on it."""

    model_config = ConfigDict(frozen=True)

    style: StrictStr = "classic"
    position: StrictStr = "bottom"
    font_size: int | None = None
    color: StrictStr = DEFAULT_COLOR
    highlight_color: StrictStr = DEFAULT_HIGHLIGHT

    @model_validator(mode="before")
    @classmethod
    def _fields(cls, data: Any) -> Any:
        return _known_fields(data, cls, "captions")

    @field_validator("style", mode="before")
    @classmethod
    def _style(cls, value: Any) -> str:
        return _one_of(value, CAPTION_STYLES, "caption style")

    @field_validator("position", mode="before")
    @classmethod
    def _position(cls, value: Any) -> str:
        return _one_of(value, POSITIONS, "caption position")

    @field_validator("font_size", mode="before")
    @classmethod
    def _font_size(cls, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise _fail(f"must be a whole number of pixels from {MIN_FONT_SIZE} to {MAX_FONT_SIZE}")
        if not MIN_FONT_SIZE <= value <= MAX_FONT_SIZE:
            raise _fail(f"must be from {MIN_FONT_SIZE} to {MAX_FONT_SIZE} pixels, not {value:g}")
        return int(value)

    @field_validator("color", "highlight_color", mode="before")
    @classmethod
    def _color(cls, value: Any) -> str:
        if not isinstance(value, str) or not _COLOR.fullmatch(value):
            shown = f"'{value[:20]}'" if isinstance(value, str) else "this value"
            raise _fail(f"{shown} is not a colour; use #RRGGBB, e.g. #FFD700")
        return value.upper()

    @property
    def burned_in(self) -> bool:
        """Whether captions are drawn on the picture (style "none": sidecar files only)."""
        return self.style != "none"


#: What each endpoint uses when the request has no ``music`` / ``captions`` object.
NARRATIVE_MUSIC = MusicOptions(mood="none")
MOVIE_MUSIC = MusicOptions(mood="calm")
DEFAULT_CAPTIONS = CaptionOptions()
