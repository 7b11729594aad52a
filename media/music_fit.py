"""Any music track made exactly as long as the video: trimmed, or looped with crossfaded seams, then faded in and out.

Used for every bed: the offline generator's, a vendor's and the caller's own track (``music.url``). The source is
first decoded once into a 48 kHz stereo WAV (at most as long as needed), because container durations lie (an MP3
without a length header reports an estimate) and the loop arithmetic needs the exact sample count.

Looping: a track simply played again from the top jumps from its last sample to its first, an audible click (and
usually a bump in the music). So the loop unit is the track with its last ``crossfade`` seconds blended into its
first ones (equal-power quarter-sine fades) and cut off the end; repeating that unit is seamless. The unit is
repeated with ``aloop`` (it holds one unit in memory, at most as long as the video) and cut to the sample.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path
from typing import Any

import ffmpeg  # type: ignore[import-untyped,unused-ignore]

from core.errors import RenderError
from media.ffmpeg import atomic_output, file_arg, run
from media.probe import probe

SAMPLE_RATE = 48_000
#: A shorter track cannot be looped musically (and would need hundreds of repeats): refuse it with a clear reason.
MIN_TRACK_S = 3.0
#: Length of the blend at each loop seam (capped at a third of the track).
LOOP_CROSSFADE_S = 1.0
FADE_IN_S = 1.0
FADE_OUT_S = 2.0


def _pcm(stream: Any) -> Any:
    return stream.filter("aresample", SAMPLE_RATE).filter(
        "aformat", sample_fmts="s16", sample_rates=SAMPLE_RATE, channel_layouts="stereo"
    )


def decode_track(source: Path, out: Path, max_seconds: float) -> int:
    """Decode the first ``max_seconds`` of ``source``'s audio to a 48 kHz stereo 16-bit WAV; returns its samples.

    Raises ``RenderError`` naming the file when it has no audio (a picture, a text page) or cannot be read."""
    source = Path(source)
    if probe(source).audio is None:
        raise RenderError(f"music track {source.name} has no audio stream")
    graph = _pcm(ffmpeg.input(file_arg(source)).audio).filter("atrim", end=f"{max_seconds:.6f}")
    with atomic_output(out) as tmp:
        run(graph.output(file_arg(tmp), acodec="pcm_s16le"), what=f"decode music track {source.name}")
    with wave.open(str(out), "rb") as decoded:
        return decoded.getnframes()


def _loop_unit(track: Any, samples: int, seam: int) -> tuple[Any, int]:
    """The track with its last ``seam`` samples crossfaded into its first ``seam``: repeating it is seamless."""
    head, body, tail = (track.filter_multi_output("asplit", 3).stream(i) for i in range(3))
    head = head.filter("atrim", end_sample=seam).filter("afade", t="in", nb_samples=seam, curve="qsin")
    tail = (tail.filter("atrim", start_sample=samples - seam).filter("asetpts", "N/SR/TB")
            .filter("afade", t="out", nb_samples=seam, curve="qsin"))
    blend = ffmpeg.filter([head, tail], "amix", inputs=2, duration="first", normalize=0)
    body = body.filter("atrim", start_sample=seam, end_sample=samples - seam).filter("asetpts", "N/SR/TB")
    return ffmpeg.concat(blend, body, v=0, a=1), samples - seam


def fit_track(
    source: Path,
    out: Path,
    seconds: float,
    *,
    fade_in: float = FADE_IN_S,
    fade_out: float = FADE_OUT_S,
    crossfade: float = LOOP_CROSSFADE_S,
) -> Path:
    """Write ``source``'s music as a 48 kHz stereo 16-bit WAV of exactly ``round(seconds * 48000)`` samples: trimmed
    when it is long enough, else looped with ``crossfade`` seconds of blend at each seam; faded in and out."""
    total = round(seconds * SAMPLE_RATE)
    if total <= 0:
        raise RenderError(f"fit music failed: length {seconds}s is not positive")
    out = Path(out)
    decoded = out.with_name(f".{out.stem}.decoded.wav")
    try:
        samples = decode_track(source, decoded, seconds + crossfade + 1.0)
        if samples < MIN_TRACK_S * SAMPLE_RATE:
            raise RenderError(f"music track {Path(source).name} is {samples / SAMPLE_RATE:.2f} s long; at least "
                              f"{MIN_TRACK_S:g} s is needed to loop it under a video")
        track = ffmpeg.input(file_arg(decoded)).audio
        if samples < total:
            seam = min(round(crossfade * SAMPLE_RATE), samples // 3)
            unit, unit_samples = _loop_unit(track, samples, seam)
            track = unit.filter("aloop", loop=math.ceil(total / unit_samples), size=unit_samples)
        fade_in_n, fade_out_n = min(round(fade_in * SAMPLE_RATE), total // 2), min(round(fade_out * SAMPLE_RATE),
                                                                                  total // 2)
        track = track.filter("atrim", end_sample=total).filter("asetpts", "N/SR/TB")
        if fade_in_n:
            track = track.filter("afade", t="in", nb_samples=fade_in_n)
        if fade_out_n:
            track = track.filter("afade", t="out", start_sample=total - fade_out_n, nb_samples=fade_out_n)
        with atomic_output(out) as tmp:
            run(_pcm(track).output(file_arg(tmp), acodec="pcm_s16le"), what="fit music track")
    finally:
        decoded.unlink(missing_ok=True)
    return out
