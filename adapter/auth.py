"""API-key authentication exactly as the seed: header ``API_KEY`` (or ``api_key``); 400 if missing, 401 if unknown.

Keys are compared in constant time and identified by a short hash (``key_id``) everywhere else: in run tags, in
idempotency scopes and in logs. The key itself is never logged.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from adapter.errors import MissingApiKey, UnknownApiKey
from core.secrets import api_keys, key_id
from core.settings import get_settings


@lru_cache(maxsize=1)
def _known_keys() -> tuple[str, ...]:
    return tuple(api_keys(get_settings()))


async def caller_key_id(request: Request) -> str:
    """The ``key_id`` of the caller's valid API key, or 400/401.

    ``async`` although it never awaits: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off to
    a worker thread and back on every request for a few microseconds of hashing."""
    supplied = request.headers.get("api_key")  # header names are case-insensitive: API_KEY and api_key alike
    if supplied is None or not supplied.strip():
        raise MissingApiKey("API_KEY header is missing or empty.")
    supplied = supplied.strip()
    match = False
    for known in _known_keys():
        match |= hmac.compare_digest(known.encode(), supplied.encode())
    if not match:
        raise UnknownApiKey("API_KEY is not valid.")
    return key_id(supplied)


KeyIdDep = Annotated[str, Depends(caller_key_id)]
