"""Secrets the server generates for itself on first start (API key, link-signing key), kept in the data dir.

A generated secret is written once with mode 0600 and reused on every restart, so links and keys stay valid.
Configured values (``REELFLOW_API_KEYS``, ``REELFLOW_WEBHOOK_SECRET``) always win over generated ones.

Webhooks are signed per API key: a tenant holds the secret that verifies its own callbacks, so one secret for all
would let tenant A forge signed callbacks to tenant B. Each key's secret is derived with HKDF-SHA256 (RFC 5869,
from ``cryptography``, a well-reviewed implementation) from the server secret and the key's ``key_id``, so nothing
per key is stored, a restart keeps every secret, and rotating the server secret rotates them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.settings import Settings

WHSEC = "whsec_"


def _stored(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(make + "\n")
    try:
        os.link(tmp, path)  # first writer wins if two processes race on first start
    except FileExistsError:
        pass
    tmp.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


def api_keys(settings: Settings) -> list[str]:
    """The accepted API keys: configured ones, else one generated key stored in ``<data dir>/api_key``."""
    configured = [k.strip() for k in settings.api_keys.split(",") if k.strip()]
    if configured:
        return configured
    return [_stored(settings.data_dir / "api_key", "rf_" + secrets.token_urlsafe(24))]


def generated_api_key_path(settings: Settings) -> Path | None:
    """Where the generated key lives, when keys are not configured."""
    return None if settings.api_keys.strip() else settings.data_dir / "api_key"


def key_id(key: str) -> str:
    """A short, stable, non-reversible name for an API key (used in tags and logs, never the key itself)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def webhook_secret(settings: Settings) -> str:
    """The Standard Webhooks signing secret (``whsec_`` + base64), configured or generated once."""
    if settings.webhook_secret is not None and settings.webhook_secret.get_secret_value():
        return settings.webhook_secret.get_secret_value()
    made = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return _stored(settings.data_dir / "webhook_secret", made)


def _secret_bytes(secret: str) -> bytes:
    """The key material of a ``whsec_`` secret (its base64 part), or the text itself for any other form."""
    try:
        return base64.b64decode(secret.removeprefix(WHSEC), validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()


def key_webhook_secret(server_secret: str, kid: str) -> str:
    """The ``whsec_`` secret that signs the callbacks of the API key whose ``key_id`` is ``kid``."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"reelflow webhook signing key:" + kid.encode()).derive(_secret_bytes(server_secret))
    return WHSEC + base64.b64encode(derived).decode()


def webhook_secret_for(settings: Settings, kid: str) -> str:
    """The signing secret of one API key (by ``key_id``), derived from this server's webhook secret."""
    return key_webhook_secret(webhook_secret(settings), kid)


def link_secret(settings: Settings) -> bytes:
    """The key that signs local file links; derived from a stored random value."""
    return _stored(settings.data_dir / "link_secret", secrets.token_hex(32)).encode()
