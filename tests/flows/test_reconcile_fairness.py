"""The reconciler against a real Prefect API and real receivers: one tenant's backlog of failing callbacks cannot
starve another tenant's, and Retry-After is honoured up to one hour only.

150 finished jobs of key A owe a callback to a receiver that answers 503 with ``Retry-After: 999999999``; one job
of key B, created last, owes one to a healthy receiver. Reading is paged (page size 50 here, so B is on the fourth
page) and deliveries are started round-robin per key, so B's callback goes out in the first pass, not after A's
150. Deliveries run in-process (the ``deliver-webhook`` flow itself), so each attempt is real HTTP.

A delivery whose copy of its state to the intake cannot be written (the database is down) still delivers and
writes its labels; the run keeps owing its callback (its tag) so the reconciler can repair the copy later.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.states import Failed

from core.jobstate import REQUEST_ID
from core.secrets import key_webhook_secret
from core.settings import get_settings
from flows.reconcile import reconcile_once
from flows.status import WEBHOOK_PREFIX
from flows.webhooks import PENDING_TAG, deliver_webhook
from tests.e2e.receiver import Receiver, running
from tests.e2e.stack import free_port

SERVER_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KID_A, KID_B = "aaaaaaaaaaaa", "bbbbbbbbbbbb"


@flow(name="fairness-job")
def job(request: dict[str, Any]) -> None:
    """Only its runs are used: finished jobs, created directly in their final state."""


@pytest.fixture
def webhook_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_WEBHOOK_SECRET", SERVER_SECRET)
    monkeypatch.setenv("REELFLOW_WEBHOOK_ALLOW_PRIVATE", "true")  # the receivers listen on 127.0.0.1
    monkeypatch.setenv("REELFLOW_WEBHOOK_TIMEOUT", "5")
    get_settings.cache_clear()


@pytest.fixture
def busy() -> Iterator[Receiver]:
    receiver = Receiver(key_webhook_secret(SERVER_SECRET, KID_A), script=[503] * 1000, retry_after="999999999")
    with running(receiver) as r:
        yield r


def finished_job(client: SyncPrefectClient, kid: str, url: str) -> FlowRun:
    return client.create_flow_run(job, parameters={"request": {"webhookUrl": url}},
                                  tags=[f"key:{kid}", "reelflow", "job", PENDING_TAG],
                                  state=Failed(message="a job that ended"))


def test_one_keys_backlog_does_not_starve_another_key(webhook_settings: None, busy: Receiver) -> None:
    healthy = Receiver(key_webhook_secret(SERVER_SECRET, KID_B))
    started: list[UUID] = []

    def deliver(run: FlowRun, client: SyncPrefectClient) -> None:
        started.append(run.id)
        deliver_webhook(str(run.id))

    with running(healthy), get_client(sync_client=True) as client:
        a_runs = [finished_job(client, KID_A, busy.url) for _ in range(150)]
        b_run = finished_job(client, KID_B, healthy.url)
        reconcile_once(client, start=deliver, budget=20, page=50)
        b_after = client.read_flow_run(b_run.id)
        a_after = [client.read_flow_run(run.id) for run in a_runs[:19]]
    assert len(started) == 20  # the per-pass budget
    assert b_run.id in started[:2]  # round-robin: B's one delivery is started with A's first
    [delivery] = healthy.accepted(str(b_run.id), "FAILED")
    assert delivery.verified  # signed with B's own secret
    assert b_after.labels[f"{WEBHOOK_PREFIX}status"] == "delivered"
    assert PENDING_TAG not in b_after.tags
    now = time.time()
    for run in a_after:  # each of A's started deliveries made one attempt and now waits at most one hour
        labels = run.labels
        assert labels[f"{WEBHOOK_PREFIX}status"] == "pending"
        assert labels[f"{WEBHOOK_PREFIX}last_error"] == "http 5xx"
        assert now < float(labels[f"{WEBHOOK_PREFIX}next_at"]) <= now + 3600
    assert len([d for d in busy.deliveries if d.answered == 503]) == 19


def test_a_delivery_goes_on_when_its_intake_copy_cannot_be_written(webhook_settings: None,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("REELFLOW_INTAKE_URL", f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/reelflow")
    get_settings.cache_clear()
    receiver = Receiver(key_webhook_secret(SERVER_SECRET, KID_B))
    with running(receiver), get_client(sync_client=True) as client:
        run = finished_job(client, KID_B, receiver.url)
        request_id = str(uuid.uuid4())
        client.update_flow_run_labels(run.id, {REQUEST_ID: request_id})  # a job of the intake
        with caplog.at_level(logging.WARNING, logger="flows.records"):
            outcome = deliver_webhook(str(run.id))
        after = client.read_flow_run(run.id)
    assert outcome == "delivered"
    assert len(receiver.accepted(request_id, "FAILED")) == 1
    assert after.labels[f"{WEBHOOK_PREFIX}status"] == "delivered"
    assert PENDING_TAG in after.tags  # the copy is behind: the reconciler repairs it, then drops the tag
    assert any("could not copy the webhook state" in r.getMessage() for r in caplog.records)
