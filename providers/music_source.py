"""Where a job's background music comes from: a composer (offline generator or a vendor model), or the caller's URL.

Composer routing (``REELFLOW_MUSIC_BACKEND``): offline mode always composes locally (like every other asset);
``local`` always does; ``replicate`` uses Stable Audio 2.5 on Replicate (the setting refuses to load without
``REPLICATE_API_TOKEN``); ``auto``, the default, uses Replicate when its token is set and the offline generator
otherwise, so one Replicate key gives vendor music as it gives vendor stills.

A caller's own track (``music.url``) is the second place a caller makes our server fetch from an address of their
choosing, so it goes through the SSRF guard (:mod:`core.netguard`) on every hop, and the connection is made to the
very address that passed it (the URL's host is swapped for that address; ``Host`` and TLS SNI keep the name, so
certificates are still checked against it). Answers are checked before they are read: an error status, a type that
is not audio (an HTML error page), or more than ``REELFLOW_MUSIC_MAX_BYTES`` is refused with a reason naming
``music.url``. Whether the bytes really are music is :mod:`media.music_fit`'s question (it probes and decodes them).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx

from core.errors import FatalProviderError, RetryableProviderError
from core.netguard import check_public_target
from core.settings import get_settings
from providers.base import MusicProvider, MusicRequest
from providers.local.music import RENDERER_VERSION as LOCAL_MUSIC_VERSION
from providers.registry import count_call

FIELD = "music.url"
#: Redirects followed (each hop checked by the guard again); more is a loop or a trap.
MAX_REDIRECTS = 3
#: Types a music file may be served as; servers often label audio as a generic binary.
AUDIO_TYPES = ("audio/", "video/", "application/ogg", "application/octet-stream", "binary/octet-stream")


def music_backend() -> str:
    """The composer backend here: "local" or "replicate"."""
    settings = get_settings()
    if settings.is_offline or settings.music_backend == "local":
        return "local"
    if settings.music_backend == "replicate" or "replicate" in settings.configured_backends():
        return "replicate"
    return "local"


def music_renderer() -> str:
    """A stable name of the composer for cache keys (local and vendor music never share a key)."""
    if music_backend() == "replicate":
        from providers.replicate_api import MUSIC_MODEL

        return f"replicate:{MUSIC_MODEL}"
    return f"local:{LOCAL_MUSIC_VERSION}"


def _composer() -> MusicProvider:
    if music_backend() == "replicate":
        from providers.replicate_api import ReplicateMusicProvider

        return ReplicateMusicProvider()
    from providers.local.music import LocalMusicProvider

    return LocalMusicProvider()


def compose(request: MusicRequest) -> tuple[bytes, str]:
    """A track in the mood from the composer serving this server; returns the bytes and who composed them."""
    provider = _composer()
    count_call("music")
    return provider.compose(request), provider.name


def _pinned(url: str, allow_private: bool) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL to connect to, extra headers, request extensions): the checked address, with the name kept."""
    addresses = check_public_target(url, allow_private=allow_private, field=FIELD,
                                    rule="music tracks are only fetched from public addresses")
    if not addresses:
        return url, {}, {}
    parsed = httpx.URL(url)
    host = parsed.host
    headers = {"Host": host if parsed.port is None else f"{host}:{parsed.port}"}
    return str(parsed.copy_with(host=str(addresses[0]))), headers, {"sni_hostname": host}


def _refuse(status: int, location: str) -> None:
    if status == 429 or status >= 500:
        raise RetryableProviderError(f"{FIELD}: the server answered {status} ({location}); trying again later",
                                     provider=FIELD)
    raise FatalProviderError(f"{FIELD}: the server answered {status} ({location}); check the URL",
                             provider=FIELD)


def _read(response: httpx.Response, location: str, max_bytes: int) -> bytes:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and not kind.startswith(AUDIO_TYPES):
        raise FatalProviderError(f"{FIELD}: {location} is not an audio file (it is served as {kind})",
                                 provider=FIELD)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FatalProviderError(f"{FIELD}: the track is {int(declared)} bytes; at most {max_bytes} are accepted",
                                 provider=FIELD)
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FatalProviderError(f"{FIELD}: the track is larger than {max_bytes} bytes", provider=FIELD)
        chunks.append(chunk)
    if not size:
        raise FatalProviderError(f"{FIELD}: the server sent an empty file ({location})", provider=FIELD)
    return b"".join(chunks)


def _get(client: httpx.Client, url: str, max_bytes: int, allow_private: bool) -> bytes | str:
    """One hop: the track's bytes, or the URL a redirect points to."""
    location = urlsplit(url).hostname or "?"
    target, headers, extensions = _pinned(url, allow_private)
    try:
        response = client.send(client.build_request("GET", target, headers=headers, extensions=extensions),
                               stream=True)
        try:
            if response.is_redirect and "location" in response.headers:
                return urljoin(url, response.headers["location"])
            if response.status_code >= 400:
                _refuse(response.status_code, location)
            return _read(response, location, max_bytes)
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise RetryableProviderError(f"{FIELD}: {location} did not answer in time", provider=FIELD) from exc
    except httpx.TransportError as exc:
        raise RetryableProviderError(f"{FIELD}: could not connect to {location} ({type(exc).__name__})",
                                     provider=FIELD) from exc


def fetch_track(url: str) -> bytes:
    """The caller's track, through the SSRF guard on every hop; refusals and failures name ``music.url``."""
    settings = get_settings()
    count_call("music")
    with httpx.Client(timeout=httpx.Timeout(settings.provider_timeout), follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            got = _get(client, url, settings.music_max_bytes, settings.music_url_allow_private)
            if isinstance(got, bytes):
                return got
            url = got
    raise FatalProviderError(f"{FIELD}: more than {MAX_REDIRECTS} redirects", provider=FIELD)
