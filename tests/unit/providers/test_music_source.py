"""Where music comes from: the composer routing, and the caller's track fetched through the SSRF guard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from core.errors import FatalProviderError, InvalidRequest, RetryableProviderError
from core.settings import get_settings
from media.music import render_music
from providers import music_source
from providers.registry import CALLS
from tests.fakes.track_server import Served, TrackServer, track_server

TRACK = render_music("calm", 3, 4.0)


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[TrackServer]:
    monkeypatch.setenv("REELFLOW_MUSIC_URL_ALLOW_PRIVATE", "true")  # the test host listens on 127.0.0.1
    get_settings.cache_clear()
    with track_server() as server:
        yield server


def use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def test_a_track_is_fetched_as_served(host: TrackServer) -> None:
    assert music_source.fetch_track(host.put("/calm.wav", Served(TRACK))) == TRACK


def test_a_fetch_counts_as_a_music_call(host: TrackServer) -> None:
    before = CALLS["music"]
    music_source.fetch_track(host.put("/calm.wav", Served(TRACK)))
    assert CALLS["music"] == before + 1


def test_a_private_address_is_refused_by_default(host: TrackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, REELFLOW_MUSIC_URL_ALLOW_PRIVATE="false")
    with pytest.raises(InvalidRequest, match=r"^music\.url: 127\.0\.0\.1 resolves to 127\.0\.0\.1.*public addresses"):
        music_source.fetch_track(host.put("/calm.wav", Served(TRACK)))


def test_a_refused_address_is_never_contacted(host: TrackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, REELFLOW_MUSIC_URL_ALLOW_PRIVATE="false")
    with pytest.raises(InvalidRequest):
        music_source.fetch_track(host.put("/calm.wav", Served(TRACK)))
    assert host.calls["/calm.wav"] == 0


def test_cloud_metadata_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="169.254.169.254"):
        music_source.fetch_track("http://169.254.169.254/latest/meta-data")


def test_an_html_page_is_not_a_track(host: TrackServer) -> None:
    with pytest.raises(FatalProviderError, match="is not an audio file .*text/html"):
        music_source.fetch_track(host.put("/page", Served(b"<html></html>", "text/html")))


def test_a_track_over_the_size_cap_is_refused(host: TrackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, REELFLOW_MUSIC_MAX_BYTES=str(1 << 16))
    with pytest.raises(FatalProviderError, match="at most 65536 are accepted"):
        music_source.fetch_track(host.put("/big.wav", Served(TRACK)))


def test_an_empty_answer_is_refused(host: TrackServer) -> None:
    with pytest.raises(FatalProviderError, match="empty file"):
        music_source.fetch_track(host.put("/empty.wav", Served(b"")))


def test_a_missing_file_is_fatal(host: TrackServer) -> None:
    with pytest.raises(FatalProviderError, match="answered 404"):
        music_source.fetch_track(f"{host.url}/nothing.wav")


def test_a_server_error_is_retried(host: TrackServer) -> None:
    with pytest.raises(RetryableProviderError, match="answered 503"):
        music_source.fetch_track(host.put("/busy.wav", Served(b"busy", "text/plain", 503)))


def test_a_redirect_is_followed(host: TrackServer) -> None:
    host.put("/real.wav", Served(TRACK))
    assert music_source.fetch_track(host.put("/moved.wav", Served(status=302, location="/real.wav"))) == TRACK


def test_a_redirect_loop_is_cut_short(host: TrackServer) -> None:
    with pytest.raises(FatalProviderError, match="more than 3 redirects"):
        music_source.fetch_track(host.put("/loop.wav", Served(status=302, location="/loop.wav")))


def test_offline_servers_compose_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, REPLICATE_API_TOKEN="r8_test", REELFLOW_OFFLINE="true")
    assert music_source.music_renderer().startswith("local:")


@pytest.mark.parametrize(("env", "renderer"), [
    ({}, "local:"),
    ({"REPLICATE_API_TOKEN": "r8_test"}, "replicate:stability-ai/stable-audio-2.5"),
    ({"REPLICATE_API_TOKEN": "r8_test", "REELFLOW_MUSIC_BACKEND": "local"}, "local:"),
    ({"OPENAI_API_KEY": "sk-test"}, "local:"),
    ({"OPENAI_API_KEY": "sk-test", "REPLICATE_API_TOKEN": "r8_test", "REELFLOW_MUSIC_BACKEND": "replicate"},
     "replicate:"),
])
def test_the_composer_follows_the_setting_and_the_keys(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                        renderer: str) -> None:
    use(monkeypatch, **env)
    assert music_source.music_renderer().startswith(renderer)


def test_replicate_music_without_its_token_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, REELFLOW_MUSIC_BACKEND="replicate")
    with pytest.raises(ValidationError, match="REELFLOW_MUSIC_BACKEND=replicate needs REPLICATE_API_TOKEN"):
        get_settings()


def test_offline_composing_counts_a_music_call() -> None:
    from providers.base import MusicRequest

    before = CALLS["music"]
    data, by = music_source.compose(MusicRequest("playful", 4.0, 7))
    assert (by, data[:4], CALLS["music"]) == ("local", b"RIFF", before + 1)
