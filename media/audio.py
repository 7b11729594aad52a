"""The narration track: one sample-exact AAC file for the whole video, at broadcast-style loudness.

Each scene's narration is padded with silence (or trimmed) to exactly its scene's length, counted in samples at
48 kHz, so the track lines up with the frame-aligned video cuts however many scenes there are.

Loudness is set for the whole track in two passes: an EBU R128 measurement (``ebur128``, integrated loudness and
true peak), then one linear gain to the target. Only when that gain would push peaks over the ceiling does a
look-ahead limiter (``alimiter``, 4x oversampled) catch the few peaks above it; speech peaks are sparse, so that
costs well under 0.5 LU. We measured this at ~40 % of the CPU of two-pass ``loudnorm``, which works at
192 kHz throughout and falls back to its dynamic mode for typical TTS peaks anyway; it also has no trouble with
silence (no gain at all). The track is encoded to AAC once, at the end, so the only lossy step is the one the
viewer hears.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ffmpeg  # type: ignore[import-untyped,unused-ignore]

from core.errors import RenderError
from media import mix
from media.ffmpeg import atomic_output, file_arg, run
from media.mix import MusicBed
from media.probe import parse_ebur128

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
#: Stereo out (both channels the same voice): what every player and platform expects.
CHANNEL_LAYOUT = "stereo"
AUDIO_BITRATE = "128k"
#: The limiter runs 4x oversampled, as BS.1770 true-peak meters do: at 48 kHz it only sees sample peaks and lets
#: inter-sample peaks through (measured +0.8 dB on clicks). Costs ~20 % more in that path only.
LIMITER_RATE = 4 * SAMPLE_RATE
#: AAC adds a little overshoot; this much headroom keeps the true peak of the encoded file under the ceiling.
AAC_PEAK_MARGIN_DB = 0.5
#: Integrated loudness at or below the EBU R128 absolute gate means "no programme": nothing to normalise.
SILENCE_LUFS = -70.0


def _sources(segments: Sequence[tuple[Path | None, float]]) -> list[Any]:
    """One decoded stream per segment. A file (or silence) used by several scenes is opened once and split:
    ffmpeg-python merges identical nodes, so two equal inputs would otherwise collapse into one."""
    uses = Counter(path for path, _ in segments)
    pools: dict[Path | None, list[Any]] = {}
    for path, count in uses.items():
        if path is None:
            stream = ffmpeg.input(f"anullsrc=r={SAMPLE_RATE}:cl={CHANNEL_LAYOUT}", f="lavfi").audio
        else:
            stream = ffmpeg.input(file_arg(path)).audio
        if count == 1:
            pools[path] = [stream]
        else:
            split = stream.filter_multi_output("asplit", count)
            pools[path] = [split.stream(index) for index in range(count)]
    return [pools[path].pop(0) for path, _ in segments]


def _segment(stream: Any, samples: int) -> Any:
    """One scene's audio as 48 kHz stereo float, exactly ``samples`` long: padded with silence, or trimmed."""
    return (
        stream.filter("aresample", SAMPLE_RATE)
        .filter("aformat", sample_fmts="fltp", sample_rates=SAMPLE_RATE, channel_layouts=CHANNEL_LAYOUT)
        .filter("apad", whole_len=samples)
        .filter("atrim", end_sample=samples)
        .filter("asetpts", "N/SR/TB")
    )


def _joined(segments: Sequence[tuple[Path | None, float]]) -> Any:
    """All scenes back to back; the graph is rebuilt per pass (decoding WAVs twice is cheaper than a temp file)."""
    if not segments:
        raise RenderError("build narration failed: no scenes")
    parts = []
    for stream, (_, seconds) in zip(_sources(segments), segments, strict=True):
        samples = round(seconds * SAMPLE_RATE)
        if samples <= 0:
            raise RenderError(f"build narration failed: scene duration {seconds}s is not positive")
        parts.append(_segment(stream, samples))
    return parts[0] if len(parts) == 1 else ffmpeg.concat(*parts, v=0, a=1)


def _measure(track: Any, what: str) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a track graph, as the final mix will have it."""
    graph = track.filter("ebur128", peak="true", framelog="verbose").output("-", f="null")
    return parse_ebur128(run(graph, what=what))


def _total(segments: Sequence[tuple[Path | None, float]]) -> int:
    return sum(round(seconds * SAMPLE_RATE) for _, seconds in segments)


def _audible(lufs: float) -> bool:
    return math.isfinite(lufs) and lufs > SILENCE_LUFS


@dataclass(frozen=True)
class _Plan:
    """The gains of one render, decided from measurements: narration and bed before mixing, then the programme."""

    voice_db: float
    music_db: float
    final_db: float
    limit: bool


def _program(segments: Sequence[tuple[Path | None, float]], music: MusicBed | None, plan: _Plan) -> Any:
    """The narration, with the bed ducked under it when there is music (before the final gain)."""
    voice = _joined(segments)
    if music is None:
        return voice
    bed = mix.bed_stream(music.path, _total(segments), plan.music_db)
    return mix.under(voice.filter("volume", f"{plan.voice_db:.2f}dB"), bed, _total(segments))


def _plan(segments: Sequence[tuple[Path | None, float]], music: MusicBed | None, target_lufs: float,
          true_peak: float) -> _Plan:
    """Measure, then decide the gains. With music: the narration is brought to the target first (so the ducking
    keys on a known level), the bed is set by its volume, and the mix as a whole is measured again."""
    integrated, peak = _measure(_joined(segments), "measure narration loudness")
    plan = _Plan(0.0, 0.0, 0.0, False)
    if music is not None:
        voice_db = target_lufs - integrated if _audible(integrated) else 0.0
        plan = _Plan(voice_db, mix.bed_gain_db(mix.measure_bed(music.path), target_lufs, music.volume), 0.0, False)
        integrated, peak = _measure(_program(segments, music, plan), "measure mix loudness")
    if not _audible(integrated):
        log.info("narration is silent (%.1f LUFS): not normalising", integrated)
        return plan
    gain = target_lufs - integrated
    log.debug("programme %.1f LUFS / %.1f dBTP: gain %+.1f dB", integrated, peak, gain)
    return replace(plan, final_db=gain, limit=peak + gain > true_peak - AAC_PEAK_MARGIN_DB)


def _finished(track: Any, plan: _Plan, true_peak: float) -> Any:
    """The final gain, and the look-ahead limiter only when the peaks need it (only they are touched)."""
    if plan.final_db == 0.0 and not plan.limit:
        return track
    track = track.filter("volume", f"{plan.final_db:.2f}dB")
    if plan.limit:
        ceiling = true_peak - AAC_PEAK_MARGIN_DB
        track = (
            track.filter("aresample", LIMITER_RATE)
            .filter("alimiter", limit=f"{10 ** (ceiling / 20):.6f}", attack=5, release=50, level="false",
                    latency="true")
            .filter("aresample", SAMPLE_RATE)
        )
    return track


def build_narration(
    segments: Sequence[tuple[Path | None, float]],
    out: Path,
    *,
    target_lufs: float = -16.0,
    true_peak: float = -1.0,
    music: MusicBed | None = None,
) -> Path:
    """Join per-scene narration WAVs (``None`` = a silent scene) into one loudness-normalised AAC 48 kHz stereo
    track whose length is exactly the sum of the scene durations (to the sample). With ``music`` (a bed fitted to
    that length, see :mod:`media.music_fit`), the bed plays under the narration, ducked while it speaks, and the
    mix as a whole meets the loudness target."""
    out = Path(out)
    plan = _plan(segments, music, target_lufs, true_peak)
    track = _finished(_program(segments, music, plan), plan, true_peak)
    with atomic_output(out) as tmp:
        encode = track.filter("atrim", end_sample=_total(segments)).output(
            file_arg(tmp),
            acodec="aac",
            audio_bitrate=AUDIO_BITRATE,
            ar=SAMPLE_RATE,
            ac=2,
            vn=None,
        )
        run(encode, what="encode narration")
    return out


def render_stems(
    segments: Sequence[tuple[Path | None, float]],
    music: MusicBed,
    voice_out: Path,
    music_out: Path,
    *,
    target_lufs: float = -16.0,
    true_peak: float = -1.0,
) -> tuple[Path, Path]:
    """The two parts of :func:`build_narration`'s mix, each as a 48 kHz stereo 16-bit WAV at its final level: the
    narration, and the bed as ducked under it. For checking a mix (ducking depth, music between lines) and for
    listening to it; the peak limiter, which only ever touches rare peaks of the sum, is left out."""
    plan = _plan(segments, music, target_lufs, true_peak)
    total = _total(segments)
    voice = _joined(segments).filter("volume", f"{plan.voice_db:.2f}dB")
    parts = mix.stems(voice, mix.bed_stream(music.path, total, plan.music_db), total)
    outputs = [Path(voice_out), Path(music_out)]
    with atomic_output(outputs[0]) as voice_tmp, atomic_output(outputs[1]) as music_tmp:
        graphs = [part.filter("volume", f"{plan.final_db:.2f}dB").filter("atrim", end_sample=total)
                  .output(file_arg(tmp), acodec="pcm_s16le", ar=SAMPLE_RATE, ac=2)
                  for part, tmp in zip(parts, (voice_tmp, music_tmp), strict=True)]
        run(ffmpeg.merge_outputs(*graphs), what="render mix stems")
    return outputs[0], outputs[1]
