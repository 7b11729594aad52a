"""Music under the narration: how loud the bed sits, and how it ducks while someone speaks.

The bed is first brought to a loudness relative to the narration target: at ``volume`` 1.0 it sits
:data:`FULL_VOLUME_OFFSET_DB` under the voice, and ``volume`` scales that linearly (0.5 is another 6 dB down, so a
bed at the default volume is 12 dB under the voice between lines). While the narration speaks, a sidechain
compressor keyed by the narration pulls the bed down by another ~20 dB, so the voice stays well over 15 dB above
the music; when a line ends, the bed comes back up within about 0.4 s. The key is the narration normalised to the
target and then levelled, so the ducking depth depends neither on how loud the TTS vendor delivered the voice nor
on how loud each word is.

Fades (in at the start, out at the end) are part of the bed itself: :func:`media.music_fit.fit_track` makes every
bed (generated, vendor or the caller's own) exactly as long as the video, with its fades, before it gets here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg  # type: ignore[import-untyped,unused-ignore]

from media.ffmpeg import file_arg, run
from media.probe import parse_ebur128

#: Bed loudness at volume 1.0, relative to the narration target (dB).
FULL_VOLUME_OFFSET_DB = -6.0
#: The key is levelled first (a fast, hard compressor with make-up gain): every word, stressed or soft, reaches the
#: ducker at about -16 dBFS, so the bed ducks by about the same depth under a whispered "the" as under a shouted
#: name, and a pause lets it go. Pure TTS silence stays silent (a gain cannot lift zeros).
KEY_THRESHOLD_DB = -45.0
KEY_MAKEUP_DB = 28.0
#: The ducker: a levelled key ~24 dB over this threshold at ratio 12 takes ~22 dB off the bed. With the bed 6-12 dB
#: under the voice to begin with, speech stays well over 15 dB above the music at any volume.
DUCK_THRESHOLD_DB = -40.0
DUCK_RATIO = 12.0
#: Attack: down within a syllable. Release: holds across the short pauses inside a sentence (a bed swelling between
#: every two words is distracting) and lets the bed back up within ~0.4 s after a line.
DUCK_ATTACK_MS = 10.0
DUCK_RELEASE_MS = 400.0
#: How far ahead of the voice the compressor listens (see ``_lookahead``).
DUCK_LOOKAHEAD_MS = 40.0
SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class MusicBed:
    """A music track already fitted to the video's length (with its fades) and the caller's volume (0.0-1.0)."""

    path: Path
    volume: float = 0.5


def bed_gain_db(bed_lufs: float, target_lufs: float, volume: float) -> float:
    """Gain that puts a bed measured at ``bed_lufs`` where ``volume`` wants it under a voice at ``target_lufs``."""
    if volume <= 0.0 or not math.isfinite(bed_lufs):
        return -120.0
    return target_lufs + FULL_VOLUME_OFFSET_DB + 20.0 * math.log10(volume) - bed_lufs


def measure_bed(path: Path) -> float:
    """Integrated loudness (LUFS) of a bed. Sample peak only (no 4x oversampling): the final mix is checked for
    true peak as a whole."""
    graph = ffmpeg.input(file_arg(path)).audio.filter("ebur128", peak="sample", framelog="verbose")
    return parse_ebur128(run(graph.output("-", f="null"), what="measure music loudness"))[0]


def bed_stream(path: Path, samples: int, gain_db: float) -> Any:
    """The bed as 48 kHz stereo float, exactly ``samples`` long, at ``gain_db``."""
    return (
        ffmpeg.input(file_arg(path)).audio
        .filter("aresample", SAMPLE_RATE)
        .filter("aformat", sample_fmts="fltp", sample_rates=SAMPLE_RATE, channel_layouts="stereo")
        .filter("apad", whole_len=samples)
        .filter("atrim", end_sample=samples)
        .filter("asetpts", "N/SR/TB")
        .filter("volume", f"{gain_db:.2f}dB")
    )


def _levelled(key: Any) -> Any:
    """The key with its dynamics flattened: any speech above the key threshold comes out near -16 dBFS."""
    return key.filter("acompressor", threshold=f"{10 ** (KEY_THRESHOLD_DB / 20):.6f}", ratio=20, attack=5,
                      release=100, makeup=f"{10 ** (KEY_MAKEUP_DB / 20):.4f}")


def ducked(bed: Any, key: Any) -> Any:
    """The bed compressed by the narration ``key`` (a sidechain: the key is only listened to, never mixed in)."""
    return ffmpeg.filter(
        [bed, _levelled(key)],
        "sidechaincompress",
        threshold=f"{10 ** (DUCK_THRESHOLD_DB / 20):.6f}",
        ratio=DUCK_RATIO,
        attack=DUCK_ATTACK_MS,
        release=DUCK_RELEASE_MS,
        detection="rms",
        link="maximum",
    )


def _lookahead(key: Any, samples: int) -> Any:
    """The key moved earlier by :data:`DUCK_LOOKAHEAD_MS` (padded at the end to the same length): the compressor
    hears each line a moment before it is heard, so the bed is already down at the first syllable."""
    ahead = round(DUCK_LOOKAHEAD_MS * SAMPLE_RATE / 1000)
    return (key.filter("atrim", start_sample=ahead).filter("asetpts", "N/SR/TB")
            .filter("apad", whole_len=samples).filter("atrim", end_sample=samples))


def stems(voice: Any, bed: Any, samples: int) -> tuple[Any, Any]:
    """(voice, ducked bed): the two parts :func:`under` sums, for measuring and checking a mix."""
    voice_out, key = (voice.filter_multi_output("asplit", 2).stream(i) for i in range(2))
    return voice_out, ducked(bed, _lookahead(key, samples))


def under(voice: Any, bed: Any, samples: int) -> Any:
    """Voice plus the bed ducked under it, ``samples`` long, summed without amix's automatic 1/n scaling."""
    return ffmpeg.filter(list(stems(voice, bed, samples)), "amix", inputs=2, duration="first", normalize=0)
