"""The instruments of the offline music generator: a few small additive/noise voices rendered with numpy.

Hand-written rather than a synthesis library because what we need is tiny (a dozen sine partials and noise bursts)
and must be bit-for-bit deterministic: every voice is a pure function of its arguments, and the only randomness
(noise for the drums) comes from a generator the caller seeds. Every voice starts and ends at zero amplitude
(raised-cosine attack, release to exactly 0 at its last sample), so notes can be overlap-added anywhere without a
click; a sine partial starts at phase 0, so its first sample is 0 too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 48_000
#: Voices compute in float32: numpy's float32 sine is several times faster than float64 (SIMD), and 24-bit precision
#: is far below what a 16-bit track can show. Phases are reduced to [0, 1) cycles in float64 first, so long notes
#: keep their exact pitch.
Mono = NDArray[np.float32]
#: Pad timbre: harmonic number -> level. Few, falling partials: warm, nothing above ~2 kHz to fight the voice.
PAD_PARTIALS = ((1, 1.0), (2, 0.32), (3, 0.14), (4, 0.06))
#: Bass: a round sine with a touch of 2nd/3rd harmonic so it is audible on small speakers.
BASS_PARTIALS = ((1, 1.0), (2, 0.35), (3, 0.12))
#: Pluck: odd harmonics falling fast (a soft triangle), bright enough to carry an arpeggio.
PLUCK_PARTIALS = ((1, 1.0), (3, 0.16), (5, 0.05))
#: Bell: a fundamental plus an inharmonic partial (~2.76 x, the ratio of a struck bar): a soft mallet sound.
BELL_PARTIALS = ((1, 1.0), (2.76, 0.28), (5.4, 0.06))


def midi_hz(note: float) -> float:
    """Equal-tempered frequency of a MIDI note number (69 = A4 = 440 Hz)."""
    return float(440.0 * 2.0 ** ((note - 69.0) / 12.0))


def _ramp(n: int) -> Mono:
    """0 -> 1 raised cosine over ``n`` samples (0 at the first sample)."""
    if n <= 0:
        return np.ones(0, dtype=np.float32)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n), dtype=np.float32)


def _sine(cycles_per_sample: float, n: int) -> Mono:
    """sin(2*pi*f*t) for ``n`` samples, from phase 0: phase kept exact in float64 cycles, the sine in float32."""
    cycles = np.arange(n) * cycles_per_sample
    cycles -= np.floor(cycles)
    return np.asarray(np.sin(np.float32(2.0 * np.pi) * cycles.astype(np.float32)), dtype=np.float32)


def envelope(n: int, attack: float, release: float, decay: float | None = None) -> Mono:
    """Amplitude over ``n`` samples: raised-cosine attack, optional exponential decay (time constant in s), and a
    raised-cosine release that reaches exactly 0 at the last sample."""
    env = np.ones(n, dtype=np.float32)
    a, r = min(int(attack * SAMPLE_RATE), n // 2), min(int(release * SAMPLE_RATE), n // 2)
    env[:a] *= _ramp(a)
    if decay is not None:
        env *= np.exp(-np.arange(n, dtype=np.float32) / np.float32(decay * SAMPLE_RATE))
    if r:
        env[n - r :] *= _ramp(r + 1)[::-1][:r]
        env[-1] = 0.0
    return env


def additive(freq: float, n: int, partials: tuple[tuple[float, float], ...], *, cents: float = 0.0) -> Mono:
    """Sum of sine partials of ``freq`` detuned by ``cents``; partials above 18 kHz are left out (no aliasing)."""
    base = freq * 2.0 ** (cents / 1200.0)
    out = np.zeros(n, dtype=np.float32)
    for ratio, level in partials:
        if base * ratio < 18_000:
            out += np.float32(level) * _sine(base * ratio / SAMPLE_RATE, n)
    return out


def pad(notes: tuple[float, ...], n: int, *, attack: float, release: float) -> tuple[Mono, Mono]:
    """A chord held for ``n`` samples, as (left, right): two voices per note detuned by ±6 cents and panned apart
    (a chorus), with a slow 0.15 Hz swell so a long chord breathes instead of sitting still."""
    left, right = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    for note in notes:
        freq = midi_hz(note)
        low, high = additive(freq, n, PAD_PARTIALS, cents=-6), additive(freq, n, PAD_PARTIALS, cents=6)
        left += np.float32(0.7) * low + np.float32(0.3) * high
        right += np.float32(0.3) * low + np.float32(0.7) * high
    swell = np.float32(0.85) + np.float32(0.15) * _sine(0.15 / SAMPLE_RATE, n)
    env = np.asarray(envelope(n, attack, release) * swell / np.float32(max(len(notes), 1)), dtype=np.float32)
    return left * env, right * env


def bass(note: float, n: int) -> Mono:
    """A bass note: quick attack, gentle decay, released before the next note."""
    return additive(midi_hz(note), n, BASS_PARTIALS) * envelope(n, 0.008, 0.05, decay=0.9)


def pluck(note: float, n: int) -> Mono:
    """A short plucked arpeggio note."""
    return additive(midi_hz(note), n, PLUCK_PARTIALS) * envelope(n, 0.004, 0.03, decay=0.22)


def bell(note: float, n: int) -> Mono:
    """A soft mallet note that rings out over its length."""
    return additive(midi_hz(note), n, BELL_PARTIALS) * envelope(n, 0.003, 0.2, decay=0.8)


def kick(n: int) -> Mono:
    """A kick drum: a sine falling from ~140 Hz to 45 Hz in a few tens of ms (the thump), decaying in ~0.2 s."""
    t = np.arange(n) / SAMPLE_RATE
    freq = 45.0 + 95.0 * np.exp(-t / 0.03)
    phase = 2.0 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    return np.asarray(np.sin(phase - phase[0]), dtype=np.float32) * envelope(n, 0.002, 0.02, decay=0.16)


def snare(n: int, rng: np.random.Generator) -> Mono:
    """A soft snare/clap: high-passed noise (first difference) over a 190 Hz body, both decaying fast."""
    noise = np.diff(rng.standard_normal(n + 1)).astype(np.float32)
    body = additive(190.0, n, ((1, 1.0),))
    return np.float32(0.45) * noise * envelope(n, 0.001, 0.02, decay=0.07) + np.float32(0.6) * body * envelope(
        n, 0.001, 0.02, decay=0.05)


def hat(n: int, rng: np.random.Generator) -> Mono:
    """A closed hi-hat: noise high-passed twice (second difference: mostly above 5 kHz), a few tens of ms long."""
    noise = (np.diff(rng.standard_normal(n + 2), n=2) / 2.0).astype(np.float32)
    return noise * envelope(n, 0.001, 0.01, decay=0.018)

