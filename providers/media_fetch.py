"""Fetching a caller's own still or clip from the URL they gave, behind the same SSRF guard as webhooks.

A media URL, like a webhook URL, makes our server send a request to an address the caller chose, so the host is
checked by ``core.netguard`` right before the request (DNS may have changed since the API accepted it), redirects
are not followed (a public URL could bounce us to a private one), and the body is read with a byte cap so an
endless or huge answer costs at most ``max_bytes``. The transport is one ``httpx`` call, kept small so that it can
move to the pinned-address transport webhooks use once that exists. What the file *is* (its type, whether it
decodes) is checked by the caller of this module; here we only move bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from core.errors import FatalProviderError, InvalidRequest, RetryableProviderError
from core.netguard import check_webhook_target

PROVIDER = "caller"


@dataclass(frozen=True)
class Fetched:
    """A caller's file: its bytes and the media type its server declared (lower case, no parameters)."""

    data: bytes
    content_type: str


def _guard(url: str, field: str, allow_private: bool) -> None:
    try:
        check_webhook_target(url, allow_private=allow_private)
    except InvalidRequest as exc:  # the guard speaks of webhooks; say which field the URL came from
        raise FatalProviderError(str(exc).replace("webhookUrl:", f"{field}:", 1).replace(
            "webhooks only go to", "media is only fetched from"), provider=PROVIDER) from exc


def _too_big(field: str, max_bytes: int) -> FatalProviderError:
    return FatalProviderError(f"{field}: the file is larger than {max_bytes / 2**20:g} MB "
                              "(REELFLOW_MAX_MEDIA_MB)", provider=PROVIDER)


def fetch(url: str, *, field: str, max_bytes: int, timeout: float, allow_private: bool,
          client: httpx.Client | None = None) -> Fetched:
    """GET ``url`` once: 200 with at most ``max_bytes`` is the file; 429/5xx and network errors may be retried."""
    _guard(url, field, allow_private)
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        with http.stream("GET", url, headers={"accept": "image/*, video/*"}) as response:
            code = response.status_code
            if code == 429 or code >= 500:
                raise RetryableProviderError(f"{field}: the media server answered {code}", provider=PROVIDER)
            if code != 200:
                raise FatalProviderError(f"{field}: the media server answered {code}, not 200", provider=PROVIDER)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(field, max_bytes)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise _too_big(field, max_bytes)
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except httpx.TimeoutException as exc:
        raise RetryableProviderError(f"{field}: the media server did not answer within {timeout:g} s",
                                     provider=PROVIDER) from exc
    except httpx.TransportError as exc:
        raise RetryableProviderError(f"{field}: could not download the file ({type(exc).__name__})",
                                     provider=PROVIDER) from exc
    finally:
        if client is None:
            http.close()
    return Fetched(bytes(body), kind)
