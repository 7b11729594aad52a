"""Flow-run processes forked from a warm process instead of started cold (the embedded runner only).

``prefect.serve`` runs every flow run in a new process started with multiprocessing's ``spawn``: a fresh
interpreter that imports Prefect, SQLAlchemy, pydantic and all of our modules before the flow's first line, about
2.8 s of CPU per job on our 2-core reference machine, paid again by every job (an edit that redoes one scene spent
a third of its wall time there). Here the runner starts multiprocessing's *forkserver* once, which imports those
modules once (``PRELOAD``), and each flow-run process is forked from it: same isolation (its own process, killed
and reaped as before, crash detection by exit code unchanged), milliseconds to start.

Why a forkserver and not plain ``fork`` of the runner: the runner is multi-threaded with an event loop and open
connections, which a fork would copy half-way; the forkserver is a separate single-threaded process that only ever
imported modules, so forking it is safe. Prefect's ``run_flow_in_subprocess`` asks for the "spawn" context by
name; :func:`install` hands it the forkserver context instead, at that one call (nothing else in the runner changes).
Prefect already passes everything a flow-run process needs (environment, settings, serialised context, the flow) in
the process's arguments, so a forked process runs the flow exactly as a spawned one would.

A flow handed over in memory reaches the forked process pickled by value (cloudpickle: the module attribute of its
name is the ``Flow``, not the function), with only the globals its code uses. Annotations written as strings
(``from __future__ import annotations``) would then name classes the process cannot find when Prefect validates the
parameters ("``NarrativeModel`` is not fully defined"); :func:`in_memory` evaluates them first, in the flow's own
module, so they travel as the classes themselves.

Work-pool workers (scale-out) start flow runs with ``python -m prefect.engine`` and are not affected.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import typing
from typing import Any

import prefect.flow_engine
from prefect import Flow

log = logging.getLogger(__name__)

#: What the forkserver imports once: the runner's main module, which imports every flow and through them every task,
#: provider and media module (and Prefect). A forked flow-run process finds them all imported.
PRELOAD = ["deployments.serve"]


class _ForkserverMultiprocessing:
    """Stands in for the ``multiprocessing`` module as ``prefect.flow_engine`` sees it: every context it asks for
    is the forkserver context; anything else is the real module's."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self._context = context

    def get_context(self, method: str | None = None) -> multiprocessing.context.BaseContext:
        return self._context

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)


def install(preload: list[str] | None = None) -> None:
    """Start the forkserver now (its imports run while the runner starts) and make flow runs fork from it.

    Without a forkserver on this platform, nothing changes: flow runs are spawned as before.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        log.info("no forkserver on this platform: flow-run processes start cold")
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD if preload is None else preload)
    multiprocessing.forkserver.ensure_running()
    prefect.flow_engine.multiprocessing = _ForkserverMultiprocessing(context)  # type: ignore[attr-defined,assignment]


def in_memory(flow: Flow[Any, Any]) -> Flow[Any, Any]:
    """``flow`` with its parameter and return annotations evaluated to the objects they name (see the module
    docstring), ready to be run from memory in another process."""
    flow.fn.__annotations__ = typing.get_type_hints(flow.fn, include_extras=True)
    return flow
