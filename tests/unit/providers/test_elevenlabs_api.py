"""ElevenLabs over httpx against the local fake: voice ids, raw PCM in WAV, word timings from the alignment."""

from __future__ import annotations

import io
import wave

import pytest

from core.errors import FatalProviderError
from providers.elevenlabs_api import ElevenLabsSpeechProvider
from tests.fakes.elevenlabs_fake import ElevenLabsFake, alignment


def test_request_shape_audio_and_word_timings(elevenlabs_fake_server: ElevenLabsFake) -> None:
    text = "Rain falls on quiet streets."
    speech = ElevenLabsSpeechProvider().synthesize(text, "rachel")
    assert elevenlabs_fake_server.bodies["tts"] == [{
        "voice_id": "21m00Tcm4TlvDq8ikWAM", "query": {"output_format": "pcm_24000"},
        "text": text, "model_id": "eleven_multilingual_v2",
    }]
    with wave.open(io.BytesIO(speech.wav)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (24000, 1)
        assert abs(wav.getnframes() / 24000 - speech.duration) < 1e-6
    timing = alignment(text)
    assert [w.text for w in speech.words] == text.split()
    assert speech.words[0].start == timing["character_start_times_seconds"][0]
    assert speech.words[-1].end == timing["character_end_times_seconds"][-1]
    assert speech.rendered_by == "elevenlabs" and elevenlabs_fake_server.problems == []


def test_moderation_refusal_is_fatal(elevenlabs_fake_server: ElevenLabsFake) -> None:
    elevenlabs_fake_server.content_policy = True
    with pytest.raises(FatalProviderError, match=r"ElevenLabs refused the content \(content policy\): .*flagged"):
        ElevenLabsSpeechProvider().synthesize("Hello.", "adam")
