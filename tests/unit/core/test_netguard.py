"""Webhook targets: public addresses only, unless the operator allows private ones."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.netguard import check_webhook_target


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://172.16.0.9/x",
    "http://192.168.1.1/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://0.0.0.0/x",
    "http://224.0.0.1/x", "http://[fe80::1]/x", "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x",
])
def test_private_targets_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest, match="webhooks only go to public addresses"):
        check_webhook_target(url, allow_private=False)


def test_private_targets_are_allowed_when_configured() -> None:
    check_webhook_target("http://127.0.0.1:9/hook", allow_private=True)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://8.8.8.8/x", "must be an absolute http"), ("http:///nohost", "must be an absolute http"),
    ("http://user:pw@8.8.8.8/x", "must not carry credentials"),
    ("http://no-such-host.invalid/x", "cannot be resolved"),
])
def test_malformed_targets(url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        check_webhook_target(url, allow_private=False)


def test_public_literal_address_passes() -> None:
    check_webhook_target("https://8.8.8.8/hook", allow_private=False)
