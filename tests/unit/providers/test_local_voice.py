"""Offline narration: plausible WAV, one timed word per input word, engine loaded once, espeak-ng fallback."""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.settings import get_settings
from providers.base import Speech
from providers.local import LocalSpeechProvider, model_cache, voice

SENTENCE = "The old lighthouse keeper climbed the stairs, lit the lamp, and watched the ships sail home."


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Load the engine once for this module with the data dir (and so the model cache) in a temp folder."""
    root = tmp_path_factory.mktemp("reelflow-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REELFLOW_DATA_DIR", str(root))
        mp.setattr(voice, "_ENGINE", None)  # a fresh load, into this module's cache dir
        get_settings.cache_clear()
        voice.warm_up()
        yield root
    get_settings.cache_clear()


def _read_wav(speech: Speech) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(speech.wav)) as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()


def _assert_timings(speech: Speech, text: str) -> None:
    words = speech.words
    assert [w.text for w in words] == text.split()
    assert words[0].start >= 0.0
    for word in words:
        assert word.start <= word.end
    for before, after in zip(words, words[1:], strict=False):
        assert before.end <= after.start + 1e-9
    assert words[-1].end <= speech.duration


def test_sentence_gives_plausible_wav(data_dir: Path) -> None:
    speech = LocalSpeechProvider().synthesize(SENTENCE, "joe")
    channels, width, rate, frames = _read_wav(speech)
    assert (channels, width) == (1, 2)
    assert speech.duration == pytest.approx(frames / rate)
    assert 0.2 <= speech.duration / len(SENTENCE.split()) <= 1.0
    assert speech.rendered_by == "local"
    assert voice.engine_name() == "piper"


def test_words_are_the_texts_words_in_order_and_timed(data_dir: Path) -> None:
    text = "In the 1990s, Dr. Smith didn't go to the store — it's 5:30 p.m. now!"
    speech = LocalSpeechProvider().synthesize(text, "joe")
    _assert_timings(speech, text)
    spoken = [w for w in speech.words if w.text != "—"]
    assert all(w.end - w.start > 0.04 for w in spoken)  # every real word is heard for a while
    span = speech.words[-1].end - speech.words[0].start
    assert span / speech.duration > 0.8
    assert sum(w.end - w.start for w in speech.words) / speech.duration > 0.6


def test_other_voice_names_only_change_the_rate(data_dir: Path) -> None:
    assert voice.speaking_rate("joe") == 1.0
    assert voice.speaking_rate("alloy") in voice.RATES
    assert voice.speaking_rate("alloy") == voice.speaking_rate("ALLOY")
    speech = LocalSpeechProvider().synthesize("A short line for another narrator.", "alloy")
    _assert_timings(speech, "A short line for another narrator.")


def test_empty_text_is_short_silence(data_dir: Path) -> None:
    speech = LocalSpeechProvider().synthesize("   ", "joe")
    assert speech.words == []
    assert 0.0 < speech.duration <= 0.5
    assert _read_wav(speech)[0] == 1


def test_concurrent_calls_share_one_engine(data_dir: Path) -> None:
    texts = [f"Scene number {n} begins with a calm sentence." for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: LocalSpeechProvider().synthesize(t, "joe"), texts))
    for text, speech in zip(texts, results, strict=True):
        _assert_timings(speech, text)


def test_patched_model_is_cached_and_reused(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = list((data_dir / "models").glob("*.onnx"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns

    def no_repatch(source: Path, target: Path) -> Path:
        raise AssertionError("the patched model was written again")

    monkeypatch.setattr(model_cache, "_write_patched", no_repatch)
    assert model_cache.patched_model_path(cache_dirs=[data_dir / "models"]) == cached[0]
    assert cached[0].stat().st_mtime_ns == mtime
    assert not list((data_dir / "models").glob("*.tmp"))


def test_espeak_fallback_when_piper_cannot_load(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenPiper:
        name = "piper"

        def __init__(self) -> None:
            raise ImportError("onnxruntime is missing")

    monkeypatch.setattr(voice, "_ENGINE", None)
    monkeypatch.setattr(voice, "_PiperEngine", BrokenPiper)
    with caplog.at_level(logging.WARNING, logger=voice.__name__):
        speech = LocalSpeechProvider().synthesize(SENTENCE, "joe")
    assert any("piper could not load" in r.getMessage() and "espeak-ng" in r.getMessage() for r in caplog.records)
    assert voice.engine_name() == "espeak-ng"
    assert speech.rendered_by == "local"
    assert 0.2 <= speech.duration / len(SENTENCE.split()) <= 1.0
    _assert_timings(speech, SENTENCE)
