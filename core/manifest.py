"""Batch manifests: JSONL, one create_narrative or create_movie body per line, validated line by line up front.

A line is exactly the body the API would accept, plus an optional ``"type"``::

    {"type": "narrative", "input": {"prompt_list": ["A fox.", "It runs."], "image_model": "FLUX1.1PRO"}}
    {"type": "movie", "input": {"prompt": "A paper boat ...", "image_model": "FLUX1.1PRO",
     "video_model": "KLINGIMGTOVIDPRO", "duration": 10}, "webhookUrl": "https://example.com/hook"}

``type`` defaults to ``narrative``. Blank lines are skipped; line numbers are the file's own (1-based), so an
error report points at the line an editor shows. Every line is checked with the same parse functions as the API
(:func:`~core.contract.parse_narrative`, :func:`~core.contract.parse_movie`), so a batch never starts a job the
API would have refused with a 400.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.contract import parse_movie, parse_narrative
from core.errors import InvalidRequest

JobType = Literal["narrative", "movie"]
MAX_LINES = 1000


class ManifestLine(BaseModel):
    """A valid line: its number, its job type and the validated body, ready to be a flow parameter."""

    model_config = ConfigDict(frozen=True)

    line: int
    type: JobType
    body: dict[str, Any]

    @property
    def webhook(self) -> bool:
        return bool(self.body.get("webhookUrl"))


class LineError(BaseModel):
    """Why one line cannot be started, in the same words the API would answer with."""

    model_config = ConfigDict(frozen=True)

    line: int
    message: str


class Manifest(BaseModel):
    """Every line of a manifest, sorted into valid lines and errors."""

    lines: list[ManifestLine] = Field(default_factory=list)
    errors: list[LineError] = Field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.lines) + len(self.errors)

    def report(self) -> str:
        """The per-line error report (one line each), for the CLI and for a failed batch's message."""
        return "\n".join(f"line {e.line}: {e.message}" if e.line else e.message for e in self.errors)


class BatchRequest(BaseModel):
    """The batch flow's parameter: where the manifest is, who owns the jobs, and how many may run at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manifest: str = Field(description="A local path or an fsspec URL (s3://..., file://...) of the JSONL manifest.")
    owner: str = Field(default="", description="key_id that owns the jobs (sees them in /status); empty: the "
                                                "server's first API key.")
    skip_invalid: bool = Field(default=False, description="Start the valid lines even when some are invalid.")
    max_in_flight: int = Field(default=4, ge=1, le=100, description="Jobs of this batch running at once.")
    poll_interval: float = Field(default=2.0, ge=0.2, le=60, description="Seconds between status reads.")


def parse_line(number: int, text: str) -> ManifestLine:
    """Validate one line; raise :class:`InvalidRequest` with the API's message for a broken rule."""
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(f"not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise InvalidRequest("must be a JSON object with an 'input' object")
    body = {k: v for k, v in payload.items() if k != "type"}
    kind = payload.get("type", "narrative")
    if kind == "narrative":
        parsed: BaseModel = parse_narrative(body)
    elif kind == "movie":
        parsed = parse_movie(body)
    else:
        raise InvalidRequest(f"type: must be 'narrative' or 'movie', not {json.dumps(kind)}")
    return ManifestLine(line=number, type=kind, body=parsed.model_dump(mode="json"))


def parse_manifest(text: str) -> Manifest:
    """Every non-blank line validated; nothing is raised, errors are collected per line."""
    manifest = Manifest()
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        if manifest.total >= MAX_LINES:
            manifest.errors.append(LineError(line=number, message=f"a manifest holds at most {MAX_LINES} jobs"))
            break
        try:
            manifest.lines.append(parse_line(number, raw))
        except InvalidRequest as exc:
            manifest.errors.append(LineError(line=number, message=str(exc)))
    if manifest.total == 0:
        manifest.errors.append(LineError(line=0, message="the manifest has no jobs (every line is blank)"))
    return manifest
