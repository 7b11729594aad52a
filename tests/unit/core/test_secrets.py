"""Generated secrets: created once with mode 0600, reused after; configured values win."""

from __future__ import annotations

import stat
from pathlib import Path

from core.secrets import (
    api_keys,
    generated_api_key_path,
    key_id,
    key_webhook_secret,
    webhook_secret,
    webhook_secret_for,
)
from core.settings import Settings


def test_generated_key_is_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = api_keys(settings)
    assert len(first) == 1 and first[0].startswith("rf_") and len(first[0]) > 20
    path = generated_api_key_path(settings)
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert api_keys(Settings(data_dir=tmp_path)) == first


def test_configured_keys_win_and_are_never_stored(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=" one , two ,")
    assert api_keys(settings) == ["one", "two"]
    assert generated_api_key_path(settings) is None and not (tmp_path / "api_key").exists()


def test_key_id_is_short_and_does_not_reveal_the_key() -> None:
    assert len(key_id("secret-key")) == 12 and "secret" not in key_id("secret-key")
    assert key_id("a") != key_id("b")


def test_webhook_secret_is_generated_in_standard_webhooks_form(tmp_path: Path) -> None:
    secret = webhook_secret(Settings(data_dir=tmp_path))
    assert secret.startswith("whsec_") and secret == webhook_secret(Settings(data_dir=tmp_path))


def test_each_key_gets_its_own_derived_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    a, b = webhook_secret_for(settings, key_id("key-a")), webhook_secret_for(settings, key_id("key-b"))
    assert a.startswith("whsec_")
    assert a != b
    assert a == key_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key_id("key-a"))  # derived, not stored
    other_server = Settings(data_dir=tmp_path, webhook_secret="whsec_" + "A" * 32)
    assert webhook_secret_for(other_server, key_id("key-a")) != a  # rotating the server secret rotates every key's
