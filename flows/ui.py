"""What an operator sees of a job in the Prefect UI before opening it: its name, its tags, and every module's logs.

Pure functions turn a job's kind, request id and request body into the run's name (:func:`run_name`) and its
descriptive tags (:func:`run_tags`; :func:`describe` gives both). Whoever creates the flow run (the API today, the
intake dispatcher later, the batch flow) calls them and adds its own protocol tags (``key:<key_id>``,
``reelflow``, ``job``, ``webhook-pending``: status, reconcile and webhooks rely on those); the flows call
:func:`run_name` again as their ``flow_run_name``, so a run started any other way is named the same. Names read
``<request id prefix>-<first words of the first line>``; tags say ``kind:``, ``image:``, ``video:``, ``voice:``,
``aspect:`` and who renders (``offline``, else ``vendor:<backend>`` per vendor and ``local`` for a local
fallback), so the UI's tag filter finds "every 9:16 job Runway animated".

Prefect sends only its own loggers to the API. ``PREFECT_LOGGING_EXTRA_LOGGERS`` (``flows.names.EXTRA_LOGGERS``,
set by the supervisor for the runner and in ``deployments/prefect.yaml`` for workers) gives our packages' loggers
the API handler too, but leaves their level at the root's WARNING: :func:`attach_module_logs`, called first thing
in each flow, lets their INFO lines (which provider rendered what, loudness decisions) through to the run's log
view.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prefect.runtime import flow_run
from pydantic import BaseModel

from core.contract import MovieRequest, NarrativeRequest, parse_movie, parse_narrative
from core.settings import get_settings
from flows.names import MODULE_LOGGERS
from providers import registry

NAME_WORDS = 6
NAME_CHARS = 48


@dataclass(frozen=True)
class RunLook:
    """How a job's flow run is named and tagged in the UI."""

    name: str
    tags: list[str]


def _request(kind: str, request: Mapping[str, Any] | BaseModel) -> NarrativeRequest | MovieRequest:
    """The request as its contract model (it was validated at intake; parsing again fills the defaults)."""
    if isinstance(request, NarrativeRequest | MovieRequest):
        return request
    body = request.model_dump(mode="json") if isinstance(request, BaseModel) else dict(request)
    return parse_movie(body) if kind == "movie" else parse_narrative(body)


def first_words(text: str) -> str:
    """The first words of the first line as a kebab-case slug: "A lighthouse, at dawn!" → "a-lighthouse-at-dawn"."""
    line = next((part for part in text.splitlines() if part.strip()), "")
    words = re.findall(r"[^\W_]+", line.lower())[:NAME_WORDS]
    return "-".join(words)[:NAME_CHARS].strip("-")


def _renderers(keys: list[str], voice: str | None) -> list[str]:
    """``offline``, else ``vendor:<backend>`` per vendor serving these keys here (``local`` for a local fallback)."""
    if get_settings().is_offline:
        return ["offline"]
    names = [registry.renderer_for(key) for key in keys]
    if voice is not None:
        names.append(registry.voice_renderer_for(voice))
    backends = dict.fromkeys(name.split(":", 1)[0] for name in names)
    return [b if b in ("local", "unavailable", "unknown") else f"vendor:{b}" for b in backends]


def run_tags(kind: str, request: Mapping[str, Any] | BaseModel) -> list[str]:
    """The descriptive tags of a ``narrative`` or ``movie`` job (``request`` is the body or its model)."""
    parsed = _request(kind, request)
    if isinstance(parsed, MovieRequest):
        spec_m = parsed.input
        image, video, aspect = spec_m.image_model or "", spec_m.video_model or "", spec_m.aspect_ratio
        voice = spec_m.voice.provider if spec_m.narration else None
    else:
        spec_n = parsed.input
        image, voice, aspect = spec_n.image_model or "", spec_n.voice.provider, spec_n.aspect_ratio
        video = (spec_n.video_model or "") if spec_n.add_generative_video else ""
    tags = [f"kind:{kind}", f"image:{image}"] + ([f"video:{video}"] if video else [])
    tags += [f"voice:{voice}"] if voice else []
    return tags + [f"aspect:{aspect}", *_renderers([k for k in (image, video) if k], voice)]


def run_name(kind: str, request_id: str, request: Mapping[str, Any] | BaseModel) -> str:
    """``<request id prefix>-<first words of the first line>`` (the prompt's first line for movies)."""
    parsed = _request(kind, request)
    first = parsed.input.prompt if isinstance(parsed, MovieRequest) else parsed.input.prompt_list[0]
    slug = first_words(first)
    return f"{request_id[:8]}-{slug}" if slug else f"{kind}-{request_id[:8]}"


def describe(kind: str, request_id: str, request: Mapping[str, Any] | BaseModel) -> RunLook:
    """Name and descriptive tags together, for a creator that knows the request id before the run exists."""
    return RunLook(name=run_name(kind, request_id, request), tags=run_tags(kind, request))


def flow_run_name(kind: str) -> Callable[[], str]:
    """A ``flow_run_name`` callable: the same name :func:`describe` gave at creation, from the run's parameters."""

    def name() -> str:
        request = flow_run.get_parameters().get("request")
        run_id = str(flow_run.get_id() or "local")
        if request is None:
            return f"{kind}-{run_id[:8]}"
        return run_name(kind, run_id, request)

    name.__name__ = f"{kind}_run_name"
    return name


def attach_module_logs(level: int = logging.INFO) -> None:
    """Let our modules' INFO lines reach the run's log view (Prefect attaches the handler, not the level)."""
    for name in MODULE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # an operator's explicit level wins
            logger.setLevel(level)
