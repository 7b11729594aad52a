"""Last-resort narration with espeak-ng (through ctypes and ``espeakng_loader``) for when piper cannot load.

Why ctypes and not piper's own ``espeakbridge``: this path exists for a broken piper install (missing onnxruntime, a
damaged model, an incompatible wheel), so it must not import piper at all. ``espeakng_loader`` ships the shared
library and its data; espeak-ng synthesises into a callback and reports a WORD event (character position and
millisecond offset) for every word, which gives real word starts. espeak-ng keeps global state, so every call holds
one process-wide lock.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_PARAM_RATE = 1
_DEFAULT_RATE = 175  # words per minute, espeak-ng's own default

_LOCK = threading.Lock()


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` from speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakResult:
    """PCM int16 mono samples plus (character offset in the text, seconds) of every word espeak reported."""

    pcm: bytes
    sample_rate: int
    word_starts: list[tuple[int, float]]


class EspeakSynth:
    """A loaded libespeak-ng, set to US English; one instance per process (see ``voice.py``)."""

    def __init__(self, voice: str = "en-us") -> None:
        """Load the library and data bundled by ``espeakng_loader``; raises ``OSError``/``RuntimeError`` if broken."""
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = Path(espeakng_loader.get_data_path())
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        self._lib.espeak_Synth.restype = ctypes.c_int
        with _LOCK:
            rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data.parent).encode(),
                                               _INITIALIZE_DONT_EXIT)
            if rate <= 0:
                raise RuntimeError(f"espeak_Initialize failed ({rate})")
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise RuntimeError(f"espeak-ng has no voice {voice!r}")
        self.sample_rate = int(rate)
        self._chunks: list[bytes] = []
        self._words: list[tuple[int, float]] = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference: ctypes does not
        self._lib.espeak_SetSynthCallback(self._callback)

    def synthesize(self, text: str, rate_factor: float = 1.0) -> EspeakResult:
        """Speak ``text``; ``rate_factor`` > 1 speaks faster. Raises ``RuntimeError`` if espeak-ng reports an error."""
        data = text.encode("utf-8")
        with _LOCK:
            self._chunks, self._words = [], []
            self._lib.espeak_SetParameter(_PARAM_RATE, int(_DEFAULT_RATE * rate_factor), 0)
            status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise RuntimeError(f"espeak_Synth failed ({status})")
            return EspeakResult(b"".join(self._chunks), self.sample_rate, list(self._words))

    def _on_audio(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        """espeak-ng's callback: collect samples and WORD events (1-based character position, ms offset)."""
        if count > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        index = 0
        while events and events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                self._words.append((event.text_position - 1, event.audio_position / 1000.0))
            index += 1
        return 0  # 0 = continue synthesis
