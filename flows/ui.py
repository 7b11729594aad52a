"""What an operator sees of a job in the Prefect UI before opening it: its tags and every module's logs.

:func:`run_tags` turns a job's kind and request body into descriptive tags: ``kind:``, ``image:``, ``video:``,
``voice:``, ``aspect:`` and who renders it (``offline``, else ``vendor:<backend>`` per vendor and ``local`` for a
local fallback), so the UI's tag filter finds "every 9:16 job Runway animated". The dispatcher adds them to the
protocol tags of ``core.jobstate.job_tags`` (owner, request, ``job``, webhook owed), which status, reconcile and
webhooks rely on; the run's name is ``core.jobstate.run_name``'s.

Prefect sends only its own loggers to the API. ``PREFECT_LOGGING_EXTRA_LOGGERS`` (``flows.names.EXTRA_LOGGERS``,
set by the supervisor for the runner and in ``deployments/prefect.yaml`` for workers) gives our packages' loggers
the API handler too, but leaves their level at the root's WARNING: :func:`attach_module_logs`, called first thing
in each flow, lets their INFO lines (which provider rendered what, loudness decisions) through to the run's log
view.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from core.contract import MovieRequest, NarrativeRequest, parse_movie, parse_narrative
from core.settings import get_settings
from flows.names import MODULE_LOGGERS
from providers import registry

log = logging.getLogger(__name__)


def _request(kind: str, request: Mapping[str, Any] | BaseModel) -> NarrativeRequest | MovieRequest:
    """The request as its contract model (it was validated at intake; parsing again fills the defaults)."""
    if isinstance(request, NarrativeRequest | MovieRequest):
        return request
    body = request.model_dump(mode="json") if isinstance(request, BaseModel) else dict(request)
    return parse_movie(body) if kind == "movie" else parse_narrative(body)


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


def tags_for(kind: str, parameters: Mapping[str, Any]) -> list[str]:
    """:func:`run_tags` of a deployment's parameters (``{"request": ...}``); none, never an error, if unreadable.

    The dispatcher calls this for every row: tags are for people, so a body this code cannot describe (one written
    by an older version, say) still becomes a run, just an undescribed one.
    """
    try:
        return run_tags(kind.split("/", 1)[0], parameters["request"])
    except Exception as exc:
        log.warning("cannot describe a %s job for its tags: %s", kind, exc)
        return []


def attach_module_logs(level: int = logging.INFO) -> None:
    """Let our modules' INFO lines reach the run's log view (Prefect attaches the handler, not the level)."""
    for name in MODULE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # an operator's explicit level wins
            logger.setLevel(level)
