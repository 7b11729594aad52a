"""Every vendor status and exception class maps to retryable or fatal, with a message fit for a user.

Table-driven through the real SDKs and real HTTP: the fake answers each status the way its vendor does, the SDK
raises its own exception class for it, and the vendor module's ``_map_errors()`` seam must translate it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.catalog import CREDENTIALS
from core.errors import FatalProviderError, ProviderError, RetryableProviderError
from core.settings import get_settings
from providers.base import ClipRequest, ImageRequest
from providers.elevenlabs_api import ElevenLabsSpeechProvider
from providers.google_api import GoogleImageProvider
from providers.openai_api import OpenAIImageProvider
from providers.replicate_api import ReplicateImageProvider
from providers.runway_api import RunwayVideoProvider
from providers.vendor_common import safe_text
from tests.fakes import elevenlabs_fake, gemini_fake, media, openai_fake, replicate_fake, runway_fake
from tests.fakes.server import FakeServer

FATAL = {400: "bad request", 401: "invalid", 402: "payment required", 403: "permission denied",
         404: "not found", 422: "input rejected"}
RETRYABLE = {408: "timed out", 409: "conflict", 429: "rate limited", 500: "server error", 502: "server error",
             503: "server error", 504: "server error"}
VENDORS = {"openai": ("OpenAI", openai_fake.KEY, "API key"), "replicate": ("Replicate", replicate_fake.TOKEN,
           "API token"), "runway": ("Runway", runway_fake.SECRET, "API secret"),
           "elevenlabs": ("ElevenLabs", elevenlabs_fake.KEY, "API key"),
           "google": ("Google", gemini_fake.KEY, "API key")}


def call_for(vendor: str, tmp_path: Path) -> Callable[[], object]:
    """One representative call of each vendor module."""
    if vendor == "openai":
        return lambda: OpenAIImageProvider("gpt-image-2").generate(ImageRequest("x", 1280, 720, 1, "16:9"))
    if vendor == "replicate":
        return lambda: ReplicateImageProvider("black-forest-labs/flux-1.1-pro").generate(
            ImageRequest("x", 1280, 720, 1, "16:9"))
    if vendor == "runway":
        still = tmp_path / "still.png"
        still.write_bytes(media.png(64, 36))
        request = ClipRequest(image=still, prompt="x", duration=5, width=1280, height=720, fps=30, motion_index=1)
        return lambda: RunwayVideoProvider().animate(request, tmp_path / "clip.mp4")
    if vendor == "google":
        return lambda: GoogleImageProvider("gemini-3.1-flash-image").generate(ImageRequest("x", 1280, 720, 1, "16:9"))
    return lambda: ElevenLabsSpeechProvider().synthesize("Hello.", "rachel")


@pytest.fixture(params=list(VENDORS))
def vendor(request: pytest.FixtureRequest) -> tuple[str, FakeServer]:
    name = request.param
    return name, request.getfixturevalue(f"{name}_fake_server")


@pytest.mark.parametrize("status", [*FATAL, *RETRYABLE])
def test_status_maps_to_the_error_tree(vendor: tuple[str, FakeServer], status: int, tmp_path: Path) -> None:
    name, fake = vendor
    title, secret, credential = VENDORS[name]
    fake.status = status
    with pytest.raises(ProviderError) as caught:
        call_for(name, tmp_path)()
    error, message = caught.value, str(caught.value)
    expected = FatalProviderError if status in FATAL else RetryableProviderError
    assert type(error) is expected, message
    assert message.startswith(f"{title} ") and f"({status})" in message
    assert (FATAL | RETRYABLE)[status] in message
    if status == 401:
        assert message == f"{title} rejected the request: invalid {credential} (401); check {CREDENTIALS[name]}"
    if status in (429, 503):
        assert error.retry_after == 7  # Retry-After honoured
    assert secret not in message and fake.url not in message
    assert sum(fake.calls.values()) == 1, "the SDK must not retry on its own"


def test_timeouts_are_retryable(vendor: tuple[str, FakeServer], monkeypatch: pytest.MonkeyPatch,
                                tmp_path: Path) -> None:
    name, fake = vendor
    monkeypatch.setenv("REELFLOW_PROVIDER_TIMEOUT", "0.2")
    get_settings.cache_clear()
    fake.stall = 0.6
    with pytest.raises(RetryableProviderError, match=rf"^{VENDORS[name][0]} did not answer .* in time \(timeout\)"):
        call_for(name, tmp_path)()


def test_connection_errors_are_retryable(vendor: tuple[str, FakeServer], tmp_path: Path) -> None:
    name, fake = vendor
    fake.stop()
    with pytest.raises(RetryableProviderError, match=rf"^{VENDORS[name][0]} could not be reached: connection error"):
        call_for(name, tmp_path)()


@pytest.mark.parametrize(("text", "shown"), [
    ("see https://cdn.example/x.png?X-Amz-Signature=abc123 for details", "see <url> for details"),
    ("Incorrect API key provided: sk-proj-abcdefgh12345678", "Incorrect API key provided: <redacted>"),
    ("token r8_AbCdEf0123456789 is invalid", "token <redacted> is invalid"),
    ("Authorization: Bearer abc.def", "Authorization: <redacted>"),
])
def test_vendor_text_is_scrubbed_of_urls_and_keys(text: str, shown: str) -> None:
    assert safe_text(text) == shown
