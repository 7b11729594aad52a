"""The shared validation rules of request bodies: the error type whose text is shown as is, the text rule every
string passes, the webhook URL rule, and the one-sentence-per-rule message a 400 carries.

A module of its own so that ``core.contract`` (the seed's bodies) and ``core.edits`` (the edit body) share them
without one importing the other's models.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from core.errors import InvalidRequest
from core.textrules import port_problem, text_problem

Body = TypeVar("Body", bound=BaseModel)


def rule_error(message: str, field: str | None = None) -> PydanticCustomError:
    """A validation error whose text is shown as is; ``field`` names the field when raised by a model rule."""
    return PydanticCustomError("reelflow", message.replace("{", "(").replace("}", ")"), {"field": field or ""})


def check_text(value: Any, *, multiline: bool = False) -> Any:
    """The shared string rule (no control characters, no unpaired surrogates); non-strings pass through."""
    if isinstance(value, str) and (problem := text_problem(value, multiline=multiline)) is not None:
        raise rule_error(problem)
    return value


def check_webhook_url(value: str | None) -> str | None:
    """A webhook URL must be an absolute http(s) URL with a host and, if it names one, a port in 1-65535."""
    if value is None:
        return None
    parts = urllib.parse.urlsplit(check_text(value).strip())
    if (problem := port_problem(parts)) is not None:
        raise rule_error(problem)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise rule_error("must be an absolute http:// or https:// URL")
    return value.strip()


_WANTED = {"string_type": "a string", "bool_type": "true or false", "list_type": "a list", "model_type": "an object",
           "dict_type": "an object"}


def _where(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p != "" and not (isinstance(p, str) and p.startswith("function-"))]
    return ".".join(parts) if parts else "body"


def error_message(exc: ValidationError) -> str:
    """One plain sentence per broken rule, naming the field: ``input.image_model: is required; ...``."""
    messages = []
    for err in exc.errors(include_url=False):
        loc = _where(tuple(err["loc"]) + ((err.get("ctx") or {}).get("field") or "",))
        kind = err["type"]
        if kind == "missing":
            text = "is required"
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            text = f"must be one of {expected}"
        elif kind in _WANTED:
            text = f"must be {_WANTED[kind]}"
        else:
            text = str(err["msg"])
        messages.append(f"{loc}: {text}")
    return "; ".join(messages)


def parse_body(model: type[Body], payload: Any, shape: str) -> Body:
    """Validate a JSON body as ``model``; raise :class:`InvalidRequest` naming the field (``shape`` when the body
    is not an object at all). The one parse step of every request body (create_narrative, create_movie, edit)."""
    if not isinstance(payload, dict):
        raise InvalidRequest(f"body: must be a JSON object with {shape}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidRequest(error_message(exc)) from exc
