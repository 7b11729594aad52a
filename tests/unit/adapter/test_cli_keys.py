"""``reelflow keys``: each key's id and webhook signing secret, never the key itself."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from adapter.cli import app
from core.secrets import key_id, key_webhook_secret
from core.settings import get_settings

SERVER_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_keys_lists_ids_with_their_own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_API_KEYS", "cli-key-alpha-0123,cli-key-bravo-4567")
    monkeypatch.setenv("REELFLOW_WEBHOOK_SECRET", SERVER_SECRET)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["keys"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    expected = [f"{key_id(k)}  {key_webhook_secret(SERVER_SECRET, key_id(k))}"
                for k in ("cli-key-alpha-0123", "cli-key-bravo-4567")]
    assert lines == expected
    assert "cli-key" not in result.output
