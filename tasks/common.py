"""What every task shares: storage, the result store, the retry rule and the "asset still exists" cache policy.

Task caching is content-addressed: a task's cache key is derived from the storage key of the asset it produces,
and the key is only trusted while that asset is still in storage. If the asset is gone, the stale cache record is
dropped, so Prefect runs the task again instead of returning a key that points at nothing. Inside the task,
:func:`stored` is the one "reuse if stored, else render and store" step every asset task takes (a second,
storage-level cache: it also serves assets another flow run made, whose Prefect record this run cannot see).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.concurrency.sync import concurrency
from prefect.context import TaskRunContext
from prefect.filesystems import LocalFileSystem, RemoteFileSystem, WritableFileSystem
from prefect.states import State
from prefect.tasks import exponential_backoff

from core import faults
from core.errors import FatalProviderError, RenderError, RetryableProviderError
from core.housekeeping import below_floor
from core.settings import get_settings
from core.storage import Storage, open_storage

log = logging.getLogger(__name__)
T = TypeVar("T", bound=Task[Any, Any])
RENDERER_VERSION = "1"
#: The longest vendor-requested wait (Retry-After) honoured before a retry; longer asks fall back to our backoff.
MAX_RETRY_AFTER = 60.0


def storage() -> Storage:
    """The media storage configured for this process."""
    return open_storage(get_settings().media_url)


@lru_cache(maxsize=4)
def _result_storage(url: str) -> WritableFileSystem:
    name = "reelflow-results-" + hashlib.sha256(url.encode()).hexdigest()[:12]
    block: WritableFileSystem
    if url.startswith("file://"):
        path = Path(url.removeprefix("file://"))
        path.mkdir(parents=True, exist_ok=True)
        kind: type[WritableFileSystem] = LocalFileSystem
        block = LocalFileSystem(basepath=str(path))
    else:
        kind = RemoteFileSystem
        block = RemoteFileSystem(basepath=url)
    try:
        return kind.load(name)  # type: ignore[no-any-return]
    except ValueError:  # first use on this Prefect server: register it once
        block.save(name, overwrite=True)
        return kind.load(name)  # type: ignore[no-any-return]


def result_storage() -> WritableFileSystem:
    """Where Prefect persists task results: a block saved once and loaded once per process.

    Prefect needs result storage persisted server-side; passing the loaded block (not its slug) avoids a server
    lookup per task (measured ~65 ms each).
    """
    return _result_storage(get_settings().results_url)


def retry_if_retryable(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only transient provider failures; everything else fails at once (no retry storms)."""
    exc = state.data if isinstance(state.data, BaseException) else state.result(raise_on_failure=False)
    if not isinstance(exc, RetryableProviderError):
        return False
    if exc.retry_after:  # the vendor said how long to wait: do so before the scheduled (backoff) delay starts
        time.sleep(min(exc.retry_after, MAX_RETRY_AFTER))
    return True


def configured(task: T) -> T:
    """A task with this server's retry schedule and result storage applied.

    Made once per task and setting, not per submission: ``with_options`` builds a new ``Task``, which reads the
    function's source (measured ~5 ms each, 20 per 6-scene job: a tenth of an identical rerun).
    """
    settings = get_settings()
    return _configured(task, settings.task_retries, settings.task_retry_delay, settings.results_url)  # type: ignore[return-value]


@lru_cache(maxsize=256)
def _configured(task: Task[Any, Any], retries: int, retry_delay: float, results_url: str) -> Task[Any, Any]:
    delays = exponential_backoff(backoff_factor=retry_delay)(retries)
    return task.with_options(
        retries=retries,
        retry_delay_seconds=delays,
        retry_jitter_factor=0.5,
        retry_condition_fn=retry_if_retryable,
        result_storage=_result_storage(results_url),
        persist_result=True,
        result_serializer="json",  # never pickle: a writable results prefix must not become code execution
    )


def asset_cache(asset_key: Callable[..., str]) -> Callable[[TaskRunContext, dict[str, Any]], str]:
    """A ``cache_key_fn`` from a function that computes a task's output key from its parameters."""

    def cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        key = asset_key(**parameters)
        digest = hashlib.sha256(f"{context.task.name}:{key}".encode()).hexdigest()[:40]
        record = f"{context.task.name}-{digest}"
        if not storage().exists(key) or not _json_record(record):
            _drop_stale_record(record)
        return record

    return cache_key


def _json_record(record: str) -> bool:
    """False when a stored cache record exists but is not a JSON-serialised result (e.g. a planted pickle).

    Prefect deserialises a record with the serializer the record itself names, so ``result_serializer="json"`` on
    our tasks alone would still unpickle a record someone wrote into the results prefix; such a record is dropped
    here, before Prefect reads it, and the task simply runs again.
    """
    block = result_storage()
    base = str(getattr(block, "basepath", "")).rstrip("/")
    try:
        if isinstance(block, LocalFileSystem):
            path = Path(base, record)
            raw = path.read_bytes() if path.exists() else None
        else:
            fs = block.filesystem  # type: ignore[attr-defined]
            target = f"{base}/{record}"
            raw = fs.cat_file(target) if fs.exists(target) else None
    except OSError:
        return True  # unreadable now: Prefect will not be able to read it either, and will run the task
    if raw is None:
        return True
    try:
        serializer = json.loads(raw)["metadata"]["serializer"]["type"]
    except (ValueError, KeyError, TypeError):
        serializer = None
    if serializer != "json":
        log.warning("dropping cache record %s: its result is serialised as %r, not JSON", record, serializer)
        return False
    return True


def _drop_stale_record(record: str) -> None:
    block = result_storage()
    base = getattr(block, "basepath", "")
    try:
        if isinstance(block, LocalFileSystem):
            Path(base, record).unlink(missing_ok=True)
        elif isinstance(block, RemoteFileSystem):
            fs = block.filesystem
            target = f"{base.rstrip('/')}/{record}"
            if fs.exists(target):
                fs.rm(target)
    except OSError as exc:  # a stale record we cannot drop only costs a rerender later
        log.warning("could not drop stale cache record %s: %s", record, exc)


def vendor_slot(renderer: str) -> contextlib.AbstractContextManager[None]:
    """Across workers, a Prefect global concurrency limit ``vendor-<name>`` around a vendor call, when enabled.

    Off by default (``REELFLOW_VENDOR_GCL``): GCLs are correct but slow under contention, so they bound a vendor
    across machines while the provider's process-local limiter does the fine-grained work.
    """
    backend = renderer.split(":", 1)[0]
    if backend in ("local", "unavailable") or not get_settings().vendor_gcl:
        return nullcontext()
    return concurrency(f"vendor-{backend}", occupy=1, strict=True)


def record_renderer(key: str, rendered_by: str) -> None:
    """Note beside an asset who rendered it (written before the asset, so an existing asset always has it)."""
    storage().put_bytes(key.rsplit(".", 1)[0] + ".by.json", json.dumps({"rendered_by": rendered_by}).encode())


def renderer_of(key: str) -> str | None:
    """Who rendered a stored asset, when it was noted."""
    note = key.rsplit(".", 1)[0] + ".by.json"
    store = storage()
    return str(json.loads(store.get_bytes(note))["rendered_by"]) if store.exists(note) else None


def stored(
    key: str, make: Callable[[Path], Path | bytes], *, task: str, text: str = "", beside: Sequence[str] = ()
) -> str:
    """Return ``key`` once the asset is in storage: reused when it (and every key in ``beside``) is there, else
    made by ``make(scratch dir)`` (a file or its bytes) and stored under ``key``.

    ``task``/``text`` name the step for ``REELFLOW_INJECT_FAULTS``, which only fires when there is work to do, so a
    resumed job gets past a fault it no longer needs to cross. ``make`` may store companions itself (``beside``);
    it runs before the main key is written, so an existing ``key`` always has them.
    """
    store = storage()
    if store.exists(key) and all(store.exists(other) for other in beside):
        return key
    inject_fault(task, text)
    with workdir() as tmp:
        made = make(tmp)
        if isinstance(made, bytes):
            store.put_bytes(key, made)
        else:
            store.put_file(key, made)
    return key


@contextmanager
def workdir() -> Iterator[Path]:
    """A scratch folder for ffmpeg intermediates, removed afterwards. Every render starts here, so this is where a
    render refuses to start below the free-space floor (``REELFLOW_MIN_FREE_MB``) instead of filling the disk."""
    settings = get_settings()
    if (low := below_floor(settings.data_dir, settings.min_free_mb)) is not None:
        raise RenderError(low)
    base = settings.data_dir / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        yield Path(tmp)


def inject_fault(task_name: str, text: str = "") -> None:
    """Fail on purpose when the operator (or a test) asked for it with ``REELFLOW_INJECT_FAULTS``.

    Entries are task names (``assemble``: always fail there) or ``task:marker`` (fail only for a scene whose text
    contains the marker), so one server can run failing and healthy jobs side by side.
    """
    if faults.parse(get_settings().inject_faults).task_fails(task_name, text):
        raise FatalProviderError(f"injected fault at {task_name} (REELFLOW_INJECT_FAULTS)", provider="test")
