"""GET /v1/video/webhook_secret: each key gets its own signing secret, authenticated like every endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from adapter import auth
from core.settings import get_settings

KEY_A, KEY_B = "unit-key-alpha-0123456789", "unit-key-bravo-9876543210"


@pytest.fixture
def two_keys(app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("REELFLOW_API_KEYS", f"{KEY_A},{KEY_B}")
    monkeypatch.setenv("REELFLOW_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    get_settings.cache_clear()
    auth._known_keys.cache_clear()
    return app_client


def secret_of(client: TestClient, key: str) -> str:
    response = client.get("/v1/video/webhook_secret", headers={"API_KEY": key})
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


def test_each_key_has_its_own_stable_secret(two_keys: TestClient) -> None:
    a, b = secret_of(two_keys, KEY_A), secret_of(two_keys, KEY_B)
    assert a.startswith("whsec_")
    assert b.startswith("whsec_")
    assert a != b
    assert secret_of(two_keys, KEY_A) == a
    assert a != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # never the server secret itself


def test_a_signature_made_for_a_does_not_verify_with_b(two_keys: TestClient) -> None:
    a, b = secret_of(two_keys, KEY_A), secret_of(two_keys, KEY_B)
    at, body = datetime.now(tz=UTC), '{"status":"COMPLETED"}'
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(at.timestamp())),
               "webhook-signature": Webhook(a).sign("msg_1", at, body)}
    assert Webhook(a).verify(body, headers) == {"status": "COMPLETED"}
    with pytest.raises(WebhookVerificationError):
        Webhook(b).verify(body, headers)


@pytest.mark.parametrize(("headers", "code"), [({}, 400), ({"API_KEY": "nope"}, 401)])
def test_the_secret_needs_a_valid_key(two_keys: TestClient, headers: dict[str, str], code: int) -> None:
    response = two_keys.get("/v1/video/webhook_secret", headers=headers)
    assert response.status_code == code
    assert response.json()["message"]
