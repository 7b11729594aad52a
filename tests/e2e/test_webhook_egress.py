"""Webhook egress limits through the real stack (API create → job → the runner's deliver-webhook run):
a name that rebinds to loopback after the create is never contacted there, and a receiver that streams its answer
for ever costs one attempt (the deadline ends it), not the runner.

The stack's processes are out of reach of an in-process resolver seam, so the rebinding name is scripted through
``REELFLOW_INJECT_FAULTS`` (``dns:``, ``core.faults``) in the session stack's environment (tests/e2e/conftest.py):
its first lookup answers a public address, every later one 127.0.0.1. A scripted name is checked as a public name
would be, although this stack allows private targets for the other tests' receivers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.faults import lookups
from tests.e2e.conftest import REBIND_HOST, REBIND_PUBLIC, SECRET_A, narrative_body, poll, terminal, wait_for
from tests.e2e.receiver import STREAM, Receiver, running
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver(SECRET_A)) as r:
        yield r


def create(api: httpx.Client, line: str, url: str | None = None) -> str:
    body = {**narrative_body([line]), **({"webhookUrl": url} if url else {})}
    response = api.post("/v1/video/create_narrative", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def webhook(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body.get("webhook") or {})


def test_a_name_rebinding_to_loopback_after_create_is_never_contacted(api: httpx.Client, stack: Stack,
                                                                      receiver: Receiver) -> None:
    assert lookups(stack.data_dir, REBIND_HOST) == []  # nobody has looked the name up yet: the create is first
    request_id = create(api, "A lighthouse blinks once at dusk.", f"http://{REBIND_HOST}:{receiver.port}/hook")
    status = poll(api, request_id, lambda b: terminal(b) and webhook(b).get("status") in ("delivered", "failed"))
    assert status["status"] == "COMPLETED"  # the job itself is unaffected
    assert status["webhook"] == {"status": "failed", "attempts": 1, "last_error": "unreachable"}  # a generic word
    first, *later = lookups(stack.data_dir, REBIND_HOST)
    assert first == REBIND_PUBLIC  # the create's check was told a public address, and answered 200
    assert later, "the delivery never looked the name up"
    assert set(later) == {"127.0.0.1"}  # progress pings and the delivery were told 127.0.0.1 ...
    assert receiver.deliveries == []  # ... and the receiver on 127.0.0.1 saw no request at all
    assert "webhook-pending" not in stack.flow_run_of(request_id)["tags"]  # nothing is owed any more


def test_a_receiver_streaming_for_ever_costs_attempts_not_the_runner(api: httpx.Client, receiver: Receiver) -> None:
    receiver.script[:] = [STREAM] * 7  # every attempt the schedule allows streams until the receiver is fixed
    request_id = create(api, "A kettle starts to sing.", receiver.url)
    wait_for(lambda: [d for d in receiver.for_request(request_id) if d.answered == STREAM], "the first stream")
    other = create(api, "A cat watches the rain.")  # other work, while the callback is being streamed
    assert poll(api, other, terminal)["status"] == "COMPLETED"
    owed = poll(api, request_id, lambda b: webhook(b).get("last_error") == "timeout")  # the deadline ended it
    assert owed["webhook"]["status"] == "pending"  # still owed: a 200 whose body never ends is not a delivery
    with receiver.lock:
        receiver.script.clear()  # fixed: the next attempt gets a plain 200
    status = poll(api, request_id, lambda b: webhook(b).get("status") in ("delivered", "failed"))
    assert status["webhook"]["status"] == "delivered", status
    assert status["webhook"]["last_error"] is None
    posts = [d for d in receiver.for_request(request_id) if d.payload["status"] != "IN_PROGRESS"]
    streamed = [d for d in posts if d.answered == STREAM]
    assert [d.answered for d in posts] == [STREAM] * len(streamed) + [200]  # the first 200 after the fix delivers
    assert status["webhook"]["attempts"] == len(posts)  # each cut stream counted as one attempt
    wait_for(lambda: all(d.hung_up.is_set() for d in streamed), "the sender to hang up on every stream")
    assert len({d.headers["webhook-id"] for d in posts}) == 1  # one event, retried
    assert len(receiver.accepted(request_id, "COMPLETED")) == 1
