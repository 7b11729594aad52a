"""The real stack, once for the e2e package: embedded PostgreSQL, Prefect server, runner and API on free ports.

Package-scoped, not session-scoped: it stops when a run (or an xdist worker) leaves tests/e2e, instead of idling
beside the unit tests that follow (its runner, dispatcher and reconciler poll every second).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from core.secrets import key_id, key_webhook_secret
from tests.e2e.stack import Stack, start_stack

T = TypeVar("T")
KEY_A = "test-key-alpha-0123456789"
KEY_B = "test-key-bravo-9876543210"
KEY_LIST = "test-key-listing-5555555555"  # tests/e2e/test_intake.py: listing must show exactly this key's requests
KEY_LIMIT = "test-key-limits-4444444444"  # tests/e2e/test_intake.py: per-key admission
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the server's; each key signs with its own, derived:
SECRET_A = key_webhook_secret(WEBHOOK_SECRET, key_id(KEY_A))
SECRET_B = key_webhook_secret(WEBHOOK_SECRET, key_id(KEY_B))
FAIL_MARKER = "#fail-image#"
# A DNS name scripted through the fault-injection seam (core.faults): public for its first lookup (the create's
# check), 127.0.0.1 for every later one (progress pings, deliveries); tests/e2e/test_webhook_egress.py
REBIND_HOST, REBIND_PUBLIC = "rebind.reelflow.test", "93.184.215.14"
STACK_ENV = {
    "REELFLOW_API_KEYS": f"{KEY_A},{KEY_B},{KEY_LIST},{KEY_LIMIT}",
    "REELFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "REELFLOW_WEBHOOK_ALLOW_PRIVATE": "true",  # the test receiver listens on 127.0.0.1
    "REELFLOW_WEBHOOK_SCHEDULE": "1,1,1,2,2,3",
    "REELFLOW_HEARTBEAT_GRACE": "35",
    "REELFLOW_RECONCILE_INTERVAL": "1",
    "REELFLOW_WEBHOOK_TIMEOUT": "10",  # the default; a held POST still outlives a SIGKILL of its sender by far
    "REELFLOW_INJECT_FAULTS": f"make-image:{FAIL_MARKER},dns:{REBIND_HOST}={REBIND_PUBLIC}/127.0.0.1",
    "REELFLOW_MIN_FREE_MB": "64",  # a low floor: test machines may have little free disk
    "REELFLOW_MAX_MEDIA_MB": "1",  # test_edit: an oversized caller file
}


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("stack")
    with start_stack(data, STACK_ENV) as s:
        yield s


@pytest.fixture(scope="package")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, headers={"API_KEY": KEY_A}, timeout=30) as client:
        yield client


def narrative_body(lines: list[str], **extra: Any) -> dict[str, Any]:
    return {"input": {"prompt_list": lines, "image_model": "FLUX1.1PRO", **extra}}


def poll(client: httpx.Client, request_id: str, until: Callable[[dict[str, Any]], bool],
         timeout: float = 300, seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Poll /status until ``until(body)`` holds; every body is appended to ``seen``. Never sleep-then-assert."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/v1/video/status", params={"request_id": request_id})
        assert response.status_code == 200, response.text
        body = response.json()
        if seen is not None:
            seen.append(body)
        if until(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"request {request_id} did not reach the expected state: {body}")
        time.sleep(0.25)


def terminal(body: dict[str, Any]) -> bool:
    return body["status"] in ("COMPLETED", "FAILED", "CANCELLED")


def flow_run_id(stack: Stack, request_id: str) -> str:
    """The id of the flow run the dispatcher made for a request (its ``request:<id>`` tag)."""
    response = httpx.post(f"{stack.prefect_api_url}/flow_runs/filter", timeout=10, json={
        "flow_runs": {"tags": {"all_": [f"request:{request_id}"]}}, "limit": 2})
    [run] = response.raise_for_status().json()
    return str(run["id"])


def recorded(read: Callable[[], T], complete: Callable[[T], bool], timeout: float = 30) -> T:
    """``read()`` once ``complete`` holds for what it read, else what it read at ``timeout`` (for the caller's
    assertion to show). Task runs, for one, are recorded from their state events, which the stack's Prefect server
    writes in batches at least once a second (adapter/supervisor.py): a job's last states may lag its end."""
    deadline = time.monotonic() + timeout
    while not complete(value := read()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return value


def wait_for(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Poll ``check`` until it returns something truthy, and return that; fail naming ``what`` on timeout."""
    value = recorded(check, bool, timeout)
    assert value, f"timed out waiting for {what}"
    return value
