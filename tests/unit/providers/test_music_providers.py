"""Music providers: the offline generator, and Stable Audio 2.5 through the official Replicate SDK against the fake."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from core.errors import FatalProviderError
from media.music_fit import fit_track
from media.probe import probe
from providers import replicate_api
from providers.base import MusicRequest
from providers.local.music import LocalMusicProvider
from providers.vendor_media import MUSIC_PROMPTS
from tests.fakes.replicate_fake import ReplicateFake

MODEL = "stability-ai/stable-audio-2.5"


def test_offline_music_is_a_48_khz_stereo_wav_of_the_length_asked() -> None:
    data = LocalMusicProvider().compose(MusicRequest("calm", 4.5, 9))
    with wave.open(io.BytesIO(data)) as track:
        assert (track.getframerate(), track.getnchannels(), track.getnframes()) == (48_000, 2, 216_000)


def test_offline_music_is_the_same_for_the_same_request() -> None:
    provider = LocalMusicProvider()
    assert provider.compose(MusicRequest("dark", 4.0, 9)) == provider.compose(MusicRequest("dark", 4.0, 9))


def test_every_api_mood_has_a_vendor_prompt() -> None:
    assert sorted(MUSIC_PROMPTS) == sorted(["calm", "uplifting", "dramatic", "playful", "dark"])


def test_stable_audio_gets_the_mood_prompt_length_and_seed(replicate_fake_server: ReplicateFake) -> None:
    replicate_api.ReplicateMusicProvider().compose(MusicRequest("dramatic", 23.4, 77))
    assert replicate_fake_server.bodies[MODEL] == [{
        "prompt": "dramatic cinematic background music, low string ostinato, deep drums, building tension, "
                  "instrumental, no vocals, suitable under a voice-over",
        "duration": 24,
        "seed": 77,
    }]


def test_stable_audio_is_created_on_its_model_path(replicate_fake_server: ReplicateFake) -> None:
    replicate_api.ReplicateMusicProvider().compose(MusicRequest("calm", 12.0, 1))
    assert replicate_fake_server.calls["POST /v1/models/(?P<owner>[\\w.\\-]+)/(?P<name>[\\w.\\-]+)/predictions"] == 1


def test_the_fake_found_nothing_wrong_with_the_request(replicate_fake_server: ReplicateFake) -> None:
    replicate_api.ReplicateMusicProvider().compose(MusicRequest("playful", 12.0, 1))
    assert replicate_fake_server.problems == []


def test_the_downloaded_track_is_audio(replicate_fake_server: ReplicateFake, tmp_path: Path) -> None:
    track = tmp_path / "vendor.wav"
    track.write_bytes(replicate_api.ReplicateMusicProvider().compose(MusicRequest("calm", 12.0, 1)))
    assert probe(track).audio is not None


@pytest.mark.parametrize(("seconds", "asked"), [(4.0, 10), (600.0, 180), (180.2, 180)])
def test_the_length_asked_stays_inside_the_models_range(replicate_fake_server: ReplicateFake, seconds: float,
                                                        asked: int) -> None:
    replicate_api.ReplicateMusicProvider().compose(MusicRequest("calm", seconds, 1))
    assert replicate_fake_server.bodies[MODEL][0]["duration"] == asked


def test_a_large_seed_is_folded_into_32_bits(replicate_fake_server: ReplicateFake) -> None:
    replicate_api.ReplicateMusicProvider().compose(MusicRequest("calm", 12.0, 2**40 + 5))
    assert replicate_fake_server.bodies[MODEL][0]["seed"] == (2**40 + 5) % 4294967295


def test_a_vendor_track_shorter_than_the_video_is_looped_to_its_length(replicate_fake_server: ReplicateFake,
                                                                        tmp_path: Path) -> None:
    track = tmp_path / "vendor.wav"
    track.write_bytes(replicate_api.ReplicateMusicProvider().compose(MusicRequest("calm", 4.0, 1)))
    fitted = fit_track(track, tmp_path / "bed.wav", 25.0)
    with wave.open(str(fitted)) as bed:
        assert bed.getnframes() == 25 * 48_000


def test_an_unknown_mood_is_refused_before_any_call(replicate_fake_server: ReplicateFake) -> None:
    with pytest.raises(FatalProviderError, match="no music prompt for mood 'none'"):
        replicate_api.ReplicateMusicProvider().compose(MusicRequest("none", 12.0, 1))
    assert replicate_fake_server.calls == {}


def test_a_content_refusal_is_fatal(replicate_fake_server: ReplicateFake) -> None:
    replicate_fake_server.content_policy = True
    with pytest.raises(FatalProviderError, match="content policy"):
        replicate_api.ReplicateMusicProvider().compose(MusicRequest("calm", 12.0, 1))
