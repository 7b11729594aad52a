"""Offline background music: a small deterministic band per mood (pad, bass, drums, an arpeggio or bells).

Each mood is a tempo, a key, a four-chord progression and a few rhythm patterns (:data:`STYLES`). The piece is laid
out in four-bar phrases (an intro of pad and bass, then main / lift / break phrases chosen by the seed), turned into
note events, and every event is rendered by :mod:`media.synth` and overlap-added into the track. Identical notes are
rendered once and reused, so two minutes of music cost a few hundred distinct notes, not minutes of synthesis.

Deterministic per ``(mood, seed, seconds)``: the seed picks the transposition, a small tempo change, the arpeggio
pattern, the phrase order and per-hit dynamics, through a random generator seeded from a SHA-256 of the inputs, so
the same inputs give the same bytes (on one platform; numpy's vectorised float32 sine may differ in its last bit
between CPU families, which can move a rare 16-bit sample by one step: cache keys name the inputs and
``providers.local.music.RENDERER_VERSION``, never the bytes, so that is harmless). Chords change with overlapping
envelopes (each pad chord's release runs under the next one's attack), so there are no clicks at note boundaries;
the track is written to the sample-exact length with a short fade at the end so a cut never lands mid-wave.
Longer fades and any looping happen in :mod:`media.music_fit`.
"""

from __future__ import annotations

import hashlib
import io
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from core.errors import RenderError
from media import synth
from media.ffmpeg import atomic_output
from media.synth import SAMPLE_RATE, Mono

Mood = Literal["calm", "uplifting", "dramatic", "playful", "dark"]
MOODS: tuple[Mood, ...] = get_args(Mood)
Chord = tuple[int, tuple[int, ...]]  # (root in semitones above the key's tonic, intervals above the root)
#: The longest track we generate (a safety cap: the longest video is far shorter).
MAX_SECONDS = 1800.0
#: Peak level of the written track (-3 dBFS): headroom for the mixer, whatever the mood.
PEAK = 10 ** (-3 / 20)
#: The last samples fade out over this long, so the cut at ``seconds`` is silent.
END_FADE_S = 0.05


@dataclass(frozen=True)
class Style:
    """One mood: how fast, which key and chords, and which beats each instrument plays (beats of a 4/4 bar)."""

    bpm: float
    tonic: int
    chords: tuple[Chord, Chord, Chord, Chord]
    bass: tuple[tuple[float, float, int], ...]  # (beat, length in beats, interval above the chord root)
    kick: tuple[float, ...]
    snare: tuple[float, ...]
    hats: tuple[float, ...]
    lead: Literal["pluck", "bell"]
    lead_rate: float  # lead notes per beat
    pad_center: int = 62
    lead_center: int = 74
    levels: tuple[float, float, float, float, float, float] = (0.55, 0.5, 0.55, 0.22, 0.06, 0.16)  # pad..lead


MAJ, MIN, MAJ7, MIN7, DOM7, ADD9, SIX = (0, 4, 7), (0, 3, 7), (0, 4, 7, 11), (0, 3, 7, 10), (0, 4, 7, 10), (
    0, 4, 7, 14), (0, 4, 7, 9)
STYLES: dict[Mood, Style] = {
    # I maj7 - vi7 - IV maj7 - V add9 in C, slow: a shaker and soft bells over a warm pad.
    "calm": Style(70, 60, ((0, MAJ7), (9, MIN7), (5, MAJ7), (7, ADD9)), ((0, 2, 0), (2, 2, 7)), (0, 2.5), (),
                  (1, 3), "bell", 1.0, levels=(0.6, 0.45, 0.35, 0.0, 0.05, 0.14)),
    # I - V - vi - IV in D, four on the floor, off-beat hats and a running arpeggio.
    "uplifting": Style(112, 62, ((0, ADD9), (7, MAJ), (9, MIN7), (5, MAJ7)),
                       tuple((b / 2, 0.5, 0) for b in range(8)), (0, 1, 2, 3), (1, 3), (0.5, 1.5, 2.5, 3.5),
                       "pluck", 2.0),
    # i - VI - III - VII in D minor: a low ostinato and tom-like hits.
    "dramatic": Style(84, 62, ((0, MIN), (8, MAJ), (3, MAJ), (10, MAJ)), ((0, 3, 0), (3, 1, 12)), (0, 1.5, 2),
                      (3,), (), "pluck", 2.0, lead_center=62, levels=(0.6, 0.55, 0.6, 0.3, 0.0, 0.2)),
    # I6 - vi7 - ii7 - V7 in F: bouncing bass, claps on 2 and 4, eighth hats and a high arpeggio.
    "playful": Style(120, 65, ((0, SIX), (9, MIN7), (2, MIN7), (7, DOM7)),
                     ((0, 0.5, 0), (1, 0.5, 7), (2, 0.5, 12), (3, 0.5, 7)), (0, 2), (1, 3),
                     tuple(b / 2 for b in range(8)), "pluck", 2.0, lead_center=79),
    # i - bII - i - v in A minor, low and slow: a drone bass, a heartbeat kick and sparse low bells.
    "dark": Style(64, 57, ((0, MIN), (1, MAJ), (0, MIN), (7, MIN)), ((0, 4, 0),), (0, 0.45), (), (2.5,), "bell",
                  0.5, pad_center=54, lead_center=64, levels=(0.65, 0.55, 0.5, 0.0, 0.04, 0.16)),
}
#: Which layers play in each kind of four-bar phrase. The intro opens with pad and bass and the drums join for its
#: last two bars ("groove"); then phrases follow CYCLE from a starting point the seed picks (never a break first).
PHRASES = {"intro": ("pad", "bass"), "groove": ("pad", "bass", "drums"), "main": ("pad", "bass", "drums", "lead"),
           "lift": ("pad", "bass", "drums", "lead", "lead_up"), "break": ("pad", "lead")}
CYCLE = ("main", "lift", "main", "break")


@dataclass(frozen=True)
class Event:
    """One note: what, where (sample), how long (samples), how loud and where in the stereo field."""

    voice: str
    start: int
    length: int
    note: float = 0.0
    gain: float = 1.0
    pan: float = 0.0  # -1 left .. +1 right


def _rng(mood: Mood, seed: int, seconds: float) -> np.random.Generator:
    digest = hashlib.sha256(f"reelflow-music:{mood}:{seed}:{seconds:.6f}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _voicing(tones: list[int], center: int) -> tuple[int, ...]:
    """Each chord tone moved by octaves into the octave around ``center``: chords move by small steps."""
    return tuple(sorted(center - 6 + (tone - (center - 6)) % 12 for tone in tones))


def _lead_order(count: int, rng: np.random.Generator) -> list[int]:
    """The arpeggio's pattern over chord-tone indices: up, down, up-down, or a seeded shuffle."""
    up = list(range(count))
    patterns = [up, up[::-1], up + up[-2:0:-1], [int(i) for i in rng.permutation(count)]]
    return patterns[int(rng.integers(len(patterns)))]


def _phrase_events(style: Style, kind: str, first_bar: int, beat_n: float, key: int, rng: np.random.Generator,
                   order: list[int]) -> list[Event]:
    layers, events = PHRASES[kind], []
    lead_step = 1.0 / style.lead_rate

    def at(bar: int, beat: float) -> int:
        return round(((first_bar + bar) * 4 + beat) * beat_n)

    for bar, (root, intervals) in enumerate(style.chords):
        if kind == "intro" and bar >= 2:
            layers = PHRASES["groove"]
        tones = [key + root + i for i in intervals]
        if "pad" in layers:  # one bar plus 0.8 s of release under the next chord
            events.append(Event("pad", at(bar, 0), round(4 * beat_n) + int(0.8 * SAMPLE_RATE),
                                gain=style.levels[0], note=float(bar)))
        if "bass" in layers:
            low = 36 + (key + root - 36) % 12
            events += [Event("bass", at(bar, beat), round(length * beat_n), low + step, style.levels[1])
                       for beat, length, step in style.bass]
        if "drums" in layers:
            jitter = rng.uniform(0.85, 1.0, 3)
            events += [Event("kick", at(bar, b), int(0.35 * SAMPLE_RATE), gain=style.levels[2] * jitter[0])
                       for b in style.kick]
            events += [Event("snare", at(bar, b), int(0.25 * SAMPLE_RATE), gain=style.levels[3] * jitter[1],
                             pan=0.1) for b in style.snare]
            events += [Event("hat", at(bar, b), int(0.08 * SAMPLE_RATE), gain=style.levels[4] * jitter[2], pan=0.35)
                       for b in style.hats]
        if "lead" in layers:
            voiced = _voicing(tones, style.lead_center + (12 if "lead_up" in layers else 0))
            length = round(lead_step * beat_n * (1.0 if style.lead == "pluck" else 2.0))
            for step in range(round(4 * style.lead_rate)):
                note = voiced[order[step % len(order)] % len(voiced)]
                events.append(Event(style.lead, at(bar, step * lead_step), length, float(note), style.levels[5],
                                    pan=0.4 if step % 2 else -0.4))
    return events


def _pad_notes(style: Style, key: int) -> list[tuple[float, ...]]:
    return [tuple(float(n) for n in _voicing([key + root + i for i in ints], style.pad_center))
            for root, ints in style.chords]


def _render(events: list[Event], pads: list[tuple[float, ...]], total: int, rng: np.random.Generator) -> np.ndarray:
    """Overlap-add every event into a (2, total) buffer; each distinct note is synthesised once."""
    out = np.zeros((2, total + int(2 * SAMPLE_RATE)), dtype=np.float32)
    cache: dict[tuple[str, float, int], tuple[Mono, Mono]] = {}
    drums = {"snare": synth.snare(int(0.25 * SAMPLE_RATE), rng), "hat": synth.hat(int(0.08 * SAMPLE_RATE), rng),
             "kick": synth.kick(int(0.35 * SAMPLE_RATE))}
    for event in events:
        if event.start >= total:
            continue
        key = (event.voice, event.note, event.length)
        if key not in cache:
            if event.voice == "pad":
                cache[key] = synth.pad(pads[int(event.note)], event.length, attack=0.35, release=0.8)
            else:
                mono = drums[event.voice] if event.voice in drums else getattr(synth, event.voice)(
                    event.note, event.length)
                cache[key] = (mono, mono)
        left, right = cache[key]
        end = min(event.start + left.size, out.shape[1])
        span = end - event.start
        out[0, event.start : end] += event.gain * (1.0 - max(event.pan, 0.0)) * left[:span]
        out[1, event.start : end] += event.gain * (1.0 + min(event.pan, 0.0)) * right[:span]
    return out[:, :total]


def render_track(mood: Mood, seed: int, seconds: float, *, voices: frozenset[str] | None = None) -> np.ndarray:
    """The piece as float samples, shape (2, round(seconds * 48000)), peak at -3 dBFS; ``voices`` keeps only those
    instruments (``pad``, ``bass``, ``kick``, ``snare``, ``hat``, ``pluck``, ``bell``) - a stem, for inspection."""
    if mood not in STYLES:
        raise RenderError(f"unknown mood {mood!r}; moods: {', '.join(MOODS)}")
    if not 0 < seconds <= MAX_SECONDS:
        raise RenderError(f"music length {seconds} s is outside (0, {MAX_SECONDS:g}] s")
    style, rng = STYLES[mood], _rng(mood, seed, seconds)
    key = style.tonic + int(rng.integers(-2, 3))
    beat_n = SAMPLE_RATE * 60.0 / (style.bpm * float(rng.uniform(0.96, 1.04)))
    total = round(seconds * SAMPLE_RATE)
    order = _lead_order(len(style.chords[0][1]), rng)
    cycle = list(np.roll(np.array(CYCLE), -int(rng.integers(2))))
    events: list[Event] = []
    for index in range(int(np.ceil(total / (16 * beat_n)))):
        kind = "intro" if index == 0 else str(cycle[(index - 1) % len(cycle)])
        events += _phrase_events(style, kind, index * 4, beat_n, key, rng, order)
    if voices is not None:
        events = [event for event in events if event.voice in voices]
    track = _render(events, _pad_notes(style, key), total, rng)
    fade = min(int(END_FADE_S * SAMPLE_RATE), total)
    track[:, total - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    track *= PEAK / max(float(np.abs(track).max()), 1e-9)
    return track


def render_music(mood: Mood, seed: int, seconds: float) -> bytes:
    """A 48 kHz stereo 16-bit WAV of exactly ``round(seconds * 48000)`` samples in ``mood``; same inputs, same bytes."""
    return _wav(render_track(mood, seed, seconds))


def _wav(track: np.ndarray) -> bytes:
    pcm = np.round(track.T * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_music(mood: Mood, seed: int, seconds: float, out: Path) -> Path:
    """:func:`render_music` into a file, atomically (task caching treats "the file exists" as done)."""
    out = Path(out)
    with atomic_output(out) as tmp:
        tmp.write_bytes(render_music(mood, seed, seconds))
    return out
