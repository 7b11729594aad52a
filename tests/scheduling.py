"""How ``make test`` spreads the suite over two pytest-xdist workers without paying twice for what a worker sets up.

``make test`` runs ``pytest -n 2 --dist loadscope --no-loadscope-reorder``: xdist hands out whole scopes, in
collection order, and a scope runs on one worker. Scopes are modules, except that every e2e module on the session
stack (``stack``/``api`` of tests/e2e/conftest.py) joins one scope, so one worker starts that stack, once. So a
module-scoped fixture (an e2e module's own stack, a unit module's renders) is built by one worker only, and a
module's tests keep their order.

(xdist's ``--dist loadgroup`` would do the grouping from ``xdist_group`` marks, but under pytest 9 it cannot: it
renames ``item._nodeid``, which pytest 9 no longer reads, so every test ends up in a group of its own.)

The workers also sort their collection so that scopes start in the best order: the session stack's first, then
the e2e modules that start a stack of their own (slowest first, as measured), then the rest. The long units of work
start early and the short ones fill the gaps, so neither worker is left with a long module at the end. A plain
``pytest`` run (no ``-n``) keeps the usual order.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

SESSION_STACK = "tests/e2e/ on the session stack"
# e2e modules that start their own stack or cluster, slowest first (their setup + calls under `--durations`)
OWN_STACK_SLOWEST_FIRST = ("test_scale_out", "test_burst", "test_stop_resume", "test_batch_schedule",
                           "test_one_key_google", "test_vendor_stack", "test_one_key_openai", "test_private_checkout")


def scope_of(nodeid: str) -> str:
    """The module of a test, or the session stack's scope for an e2e module that does not bring its own stack."""
    module = nodeid.split("::", 1)[0]
    if module.startswith("tests/e2e/") and _name(module) not in OWN_STACK_SLOWEST_FIRST:
        return SESSION_STACK
    return module


def _name(module: str) -> str:
    return module.rsplit("/", 1)[-1].removesuffix(".py")


def _rank(scope: str) -> int:
    """Where a scope starts: the session stack's, then the stack-owning e2e modules, then everything else."""
    if scope == SESSION_STACK:
        return 0
    if scope.startswith("tests/e2e/"):
        return 1 + OWN_STACK_SLOWEST_FIRST.index(_name(scope))
    return 1 + len(OWN_STACK_SLOWEST_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: every worker sorts alike, so their collections agree
        items.sort(key=lambda item: _rank(scope_of(item.nodeid)))  # stable: the order inside a scope is kept


if importlib.util.find_spec("xdist") is not None:  # the hook exists only with xdist installed (the dev extra)
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScopes(LoadScopeScheduling):
        """xdist's load-by-scope scheduling with our scopes (:func:`scope_of`)."""

        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
        return SuiteScopes(config, log) if config.getvalue("dist") == "loadscope" else None
