"""Batch manifests in storage: read one from a path or URL, validate every line as the API would, stage a local one.

Validation is the API's, line for line: the contract rules (:mod:`core.manifest`), then what this server can serve
(vendor credentials, the same check as ``create_narrative``/``create_movie``) and the webhook SSRF guard. The CLI
calls :func:`load_manifest` before it starts anything; the batch flow calls it again through :func:`read_manifest`
on the worker, which is where the jobs will run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import fsspec
from prefect import task

from core.contract import parse_movie, parse_narrative
from core.errors import InvalidRequest
from core.manifest import LineError, Manifest, ManifestLine, parse_manifest
from core.netguard import check_webhook_target
from core.settings import get_settings
from providers import registry
from tasks.common import storage

MAX_BYTES = 8 * 1024 * 1024


def read_text(source: str) -> str:
    """The manifest's text from a local path or any fsspec URL (``s3://``, ``file://``, ...)."""
    if not source.strip():
        raise InvalidRequest("no manifest given (the nightly schedule takes it from REELFLOW_BATCH_MANIFEST at "
                             "`make deploy`, or from the schedule's parameters in the Prefect UI)")
    try:
        if "://" in source:
            with fsspec.open(source, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        else:
            with Path(source).open("rb") as fh:
                data = fh.read(MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"cannot read the manifest {source}: {exc}") from exc
    if len(data) > MAX_BYTES:
        raise InvalidRequest(f"the manifest {source} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"the manifest {source} is not UTF-8 text") from exc


def unservable(line: ManifestLine) -> str | None:
    """Why this server cannot run a contract-valid line (the API's own checks), or None."""
    if line.type == "narrative":
        problem = registry.availability_error(parse_narrative(line.body).input)
    else:
        spec = parse_movie(line.body).input
        keys = [spec.image_model or "", spec.video_model or "", *([spec.voice.provider] if spec.narration else [])]
        problem = next(filter(None, map(registry.check_available, keys)), None)
    if problem is None and line.webhook:
        try:
            check_webhook_target(str(line.body["webhookUrl"]), allow_private=get_settings().webhook_allow_private)
        except InvalidRequest as exc:
            problem = str(exc)
    return problem


def load_manifest(source: str) -> Manifest:
    """Read and validate a whole manifest; errors are collected per line, never raised (except an unreadable file)."""
    manifest = parse_manifest(read_text(source))
    servable: list[ManifestLine] = []
    for line in manifest.lines:
        problem = unservable(line)
        if problem is None:
            servable.append(line)
        else:
            manifest.errors.append(LineError(line=line.line, message=problem))
    manifest.lines = servable
    manifest.errors.sort(key=lambda e: e.line)
    return manifest


@task(name="read-manifest", task_run_name="read-manifest", retries=0, result_serializer="json")
def read_manifest(source: str) -> Manifest:
    """The validated manifest, as a task so the read and its report show in the batch's run."""
    return load_manifest(source)


def stage_manifest(data: bytes) -> str:
    """Copy a local manifest into storage (content-addressed) so any worker can read it; its storage URL."""
    key = f"batches/{hashlib.sha256(data).hexdigest()[:24]}.jsonl"
    store = storage()
    store.put_bytes(key, data)
    return f"{store.url}/{key}"
