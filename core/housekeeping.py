"""What keeps the disk from filling: retention sweeps, tombstones of swept jobs, the free-space floor, and the
startup sweep of files a killed render left behind.

Why here, below every layer: the API (410 for a swept job, 503 below the floor), the tasks (the retention sweep,
the floor before a render) and the supervisor (the startup sweep) all need the same rules, and none of them is
Prefect-specific. Everything works on a :class:`~core.storage.Storage`, so S3 media is swept like a local folder.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.storage import Storage

TOMBSTONES = "tombstones"  # tombstones/<request id>.json: who owned a swept job and when it was swept
STALE_PART_SECONDS = 3600.0  # a .part-* file untouched this long belongs to a writer that died


@dataclass
class Freed:
    """What a sweep removed, for the log line and the flow's (JSON) result."""

    files: int = 0
    bytes: int = 0
    jobs: list[str] = field(default_factory=list)

    def add(self, other: Freed) -> Freed:
        return Freed(self.files + other.files, self.bytes + other.bytes, self.jobs + other.jobs)

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "bytes": self.bytes, "jobs": len(self.jobs)}


def _mtime(info: dict[str, Any]) -> float:
    """Modification time of an fsspec entry: ``mtime`` (local) or ``LastModified`` (S3)."""
    value = info.get("mtime", info.get("LastModified", info.get("last_modified", 0)))
    return value.timestamp() if isinstance(value, datetime) else float(value or 0)


def _files(store: Storage, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(storage key, fsspec info) of every file under ``prefix``."""
    root = store.path(prefix) if prefix else store.root
    if not store.fs.exists(root):
        return
    base = store.root.rstrip("/") + "/"
    for path, info in store.fs.find(root, detail=True).items():
        yield path.removeprefix(base).removeprefix(base.lstrip("/")), info


def tombstone_key(request_id: str) -> str:
    return f"{TOMBSTONES}/{request_id}.json"


def read_tombstone(store: Storage, request_id: str) -> dict[str, Any] | None:
    """The tombstone of a swept job, or None (also for ids that are not plain names)."""
    if not request_id.replace("-", "").isalnum():
        return None
    key = tombstone_key(request_id)
    return json.loads(store.get_bytes(key)) if store.exists(key) else None


def job_ids_older_than(store: Storage, cutoff: float) -> list[str]:
    """Jobs under ``jobs/`` whose newest file is older than ``cutoff`` (epoch seconds)."""
    newest: dict[str, float] = {}
    for key, info in _files(store, "jobs"):
        parts = key.split("/")
        if len(parts) >= 3:
            newest[parts[1]] = max(newest.get(parts[1], 0.0), _mtime(info))
    return sorted(job for job, seen in newest.items() if seen < cutoff)


def sweep_job(store: Storage, request_id: str, owner: str | None) -> Freed:
    """Delete a job's media and leave a tombstone naming its owner, so ``/status`` can answer 410 to that owner."""
    freed = Freed(jobs=[request_id])
    for _, info in _files(store, f"jobs/{request_id}"):
        freed.files += 1
        freed.bytes += int(info.get("size") or 0)
    stone = {"request_id": request_id, "owner": owner, "swept_at": datetime.now(UTC).isoformat()}
    store.put_bytes(tombstone_key(request_id), json.dumps(stone).encode())
    if store.fs.exists(store.path(f"jobs/{request_id}")):
        store.fs.rm(store.path(f"jobs/{request_id}"), recursive=True)
    return freed


def _stem(key: str) -> str:
    """A cache entry's content address without any extension: ``cache/ab/ab12..`` for ``.png``, ``.by.json`` ..."""
    folder, _, name = key.rpartition("/")
    return f"{folder}/{name.split('.', 1)[0]}"


def referenced_keys(store: Storage) -> set[str]:
    """Every storage key a remaining job's published result names (its stills, clips, voices ...)."""
    keys: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith("cache/"):
            keys.add(_stem(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for key, _ in _files(store, "jobs"):
        if key.endswith("/result.json"):
            try:
                walk(json.loads(store.get_bytes(key)))
            except (OSError, ValueError):
                continue
    return keys


def sweep_cache(store: Storage, cutoff: float) -> Freed:
    """Delete cache entries older than ``cutoff`` that no remaining job references (with their ``.by.json``)."""
    keep = referenced_keys(store)
    freed = Freed()
    for key, info in list(_files(store, "cache")):
        if _mtime(info) < cutoff and _stem(key) not in keep:
            store.fs.rm(store.path(key))
            freed.files += 1
            freed.bytes += int(info.get("size") or 0)
    return freed


def sweep_older_than(store: Storage, prefix: str, cutoff: float) -> Freed:
    """Delete every file under ``prefix`` older than ``cutoff`` (Prefect's persisted task results)."""
    freed = Freed()
    for key, info in list(_files(store, prefix)):
        if _mtime(info) < cutoff:
            store.fs.rm(store.path(key))
            freed.files += 1
            freed.bytes += int(info.get("size") or 0)
    return freed


def free_mb(path: Path) -> float:
    """Free space (MiB) on the filesystem holding ``path`` (its nearest existing ancestor)."""
    probe = path.resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / (1024 * 1024)


def below_floor(path: Path, floor_mb: int) -> str | None:
    """A message when free space under ``path`` is below ``floor_mb`` MiB, else None (a floor of 0 is off)."""
    if floor_mb <= 0:
        return None
    free = free_mb(path)
    if free >= floor_mb:
        return None
    return (f"the server is low on disk space ({free:.0f} MiB free, REELFLOW_MIN_FREE_MB is {floor_mb}); "
            "new jobs are refused until space is freed; try again later")


def sweep_leftovers(data_dir: Path, media_root: Path | None, now: float | None = None) -> Freed:
    """At startup: remove ``.part-*`` files a killed writer left in media, and render scratch dirs (``tmp/``).

    Only run before any render starts (the supervisor calls it before the runner), so nothing here is in use;
    ``.part-*`` files are also left alone while younger than an hour, in case a second stack shares the media.
    """
    now = time.time() if now is None else now
    freed = Freed()
    scratch = data_dir / "tmp"
    if scratch.is_dir():
        for entry in scratch.iterdir():
            size = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else 0
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            freed.files += 1
            freed.bytes += size
    if media_root is not None and media_root.is_dir():
        for root, _, names in os.walk(media_root):
            for name in names:
                path = Path(root, name)
                if ".part-" in name and now - path.stat().st_mtime > STALE_PART_SECONDS:
                    freed.bytes += path.stat().st_size
                    path.unlink(missing_ok=True)
                    freed.files += 1
    return freed
