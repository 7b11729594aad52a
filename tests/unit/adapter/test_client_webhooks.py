"""``reelflow_client.verify_webhook`` accepts exactly what reelflow's own webhook sender signs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from providers.webhook_sender import signed_headers
from reelflow_client import InvalidSignature, verify_webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = json.dumps({"request_id": "r1", "status": "COMPLETED", "progress": 100}, separators=(",", ":"))


def test_a_delivery_signed_by_the_server_verifies_and_returns_its_payload() -> None:
    headers = signed_headers(SECRET, "msg_1", BODY)
    assert verify_webhook(BODY.encode(), headers, SECRET) == {"request_id": "r1", "status": "COMPLETED",
                                                              "progress": 100}


def test_header_names_are_matched_whatever_their_case() -> None:
    headers = {name.title(): value for name, value in signed_headers(SECRET, "msg_1", BODY).items()}
    assert verify_webhook(BODY, headers, SECRET)["status"] == "COMPLETED"


def test_an_altered_body_is_refused() -> None:
    headers = signed_headers(SECRET, "msg_1", BODY)
    with pytest.raises(InvalidSignature):
        verify_webhook(BODY.replace("COMPLETED", "FAILED"), headers, SECRET)


def test_another_secret_is_refused() -> None:
    headers = signed_headers("whsec_" + "A" * 32, "msg_1", BODY)
    with pytest.raises(InvalidSignature):
        verify_webhook(BODY, headers, SECRET)


def test_an_old_delivery_is_refused_as_a_replay() -> None:
    headers = signed_headers(SECRET, "msg_1", BODY, at=datetime.now(tz=UTC) - timedelta(hours=1))
    with pytest.raises(InvalidSignature):
        verify_webhook(BODY, headers, SECRET)
