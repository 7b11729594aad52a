"""The job's narration track (with the music bed under it), made while the scenes are still rendering.

A scene's length follows from its narration alone (``tasks.video.scene_seconds``), so the whole track can be
built as soon as the voices exist: the ``narration`` task levels each scene's narration into a stored piece
(``media.audio.level_scene``), makes the music bed when the job has music, and joins the pieces into one AAC track,
all in parallel with the scene renders instead of after them. ``assemble`` then finds the track stored and only
joins the clips and muxes. Each piece is a content-addressed asset of its narration and its scene's length, so an
edit that changed one scene levels only that scene, and an edit of pictures only reuses the track whole.

``assemble`` still makes whatever is missing itself (:func:`ensure_track`): a job whose track task was not run
(an older cache, a deleted piece) comes out the same.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prefect import task
from pydantic import BaseModel, ConfigDict

from core.errors import ReelflowError
from core.results import SceneSpec, VoiceAsset
from core.storage import content_key
from core.styles import MusicOptions
from media.audio import SAMPLE_RATE, build_narration, level_scene
from media.mix import MusicBed
from tasks.common import RENDERER_VERSION, asset_cache, configured, storage, stored
from tasks.music import MusicBedAsset, make_music, music_key
from tasks.video import scene_seconds

log = logging.getLogger(__name__)

#: How the narration track is made (2: per-scene levelled pieces, one AAC encode with the fast coder); part of the
#: track's and the assembly's keys, so a video joined the earlier way is joined again rather than reused.
NARRATION = "2"
#: Loudness every piece is levelled to, and the true-peak ceiling (DESIGN.md §7).
TARGET_LUFS, TRUE_PEAK = -16.0, -1.0

Piece = tuple[str, float] | None


class MusicFailed(ReelflowError):
    """The music bed could not be made; the flow reports it as "music failed: <reason>"."""


class NarrationTrack(BaseModel):
    """The stored track and the bed mixed into it (None without music), which ``assemble`` is then given."""

    model_config = ConfigDict(frozen=True)

    key: str
    music: MusicBedAsset | None = None


def narration_key(durations: list[float], pieces: list[Piece], music: MusicBedAsset | None) -> str:
    """The whole narration track (AAC): its levelled pieces, the scenes' lengths and the music bed."""
    bed = {"music": music.key, "volume": music.volume} if music else {}
    return content_key("narration", "m4a", pieces=[p[0] if p else None for p in pieces], durations=durations,
                       lufs=TARGET_LUFS, peak=TRUE_PEAK, renderer=RENDERER_VERSION, narration=NARRATION, **bed)


def levelled_key(voice: VoiceAsset, seconds: float) -> str:
    """A scene's levelled narration: its narration file at its scene's exact length (in samples), at the target."""
    return content_key("levelled", "flac", wav=voice.wav, samples=round(seconds * SAMPLE_RATE), lufs=TARGET_LUFS,
                       peak=TRUE_PEAK, renderer=RENDERER_VERSION)


def _levelled(voice: VoiceAsset, seconds: float, step: str) -> tuple[str, float]:
    """The scene's levelled piece (made only when not stored yet) and its true peak (dBTP)."""
    store = storage()
    key = levelled_key(voice, seconds)
    facts_key = key.rsplit(".", 1)[0] + ".json"

    def level(tmp: Path) -> Path:
        made = level_scene(store.local_copy(voice.wav, tmp), seconds, tmp / "levelled.flac",
                           target_lufs=TARGET_LUFS, true_peak=TRUE_PEAK)
        store.put_bytes(facts_key, json.dumps({"lufs": made.lufs, "peak": made.peak}).encode())
        return tmp / "levelled.flac"

    stored(key, level, task=step, beside=(facts_key,))
    return key, float(json.loads(store.get_bytes(facts_key))["peak"])


def level_ahead(scene: SceneSpec, voice: VoiceAsset, fps: int) -> None:
    """Level a scene's narration into its piece as soon as the narration exists (``speak`` calls this), so the
    pieces are made one by one while scenes render and the ``narration`` task, which needs every voice, is left
    with one join and encode instead of the whole job's levelling at the end (it was the last thing to finish).

    Best effort: the ``narration`` task makes any piece still missing, and a failure is reported there, under its
    own stage, as before.
    """
    try:
        _levelled(voice, scene_seconds(scene, voice, fps), "narration")
    except Exception as exc:
        log.warning("could not level scene %d's narration ahead (%s); the narration task will", scene.index, exc)


def levelled_pieces(voices: list[VoiceAsset | None], durations: list[float], step: str) -> list[Piece]:
    """Every narrated scene's levelled piece and peak (None for a silent scene), missing ones made two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = {i: pool.submit(_levelled, v, seconds, step)
                for i, (v, seconds) in enumerate(zip(voices, durations, strict=True)) if v is not None}
        return [made[i].result() if i in made else None for i in range(len(durations))]


def ensure_track(voices: list[VoiceAsset | None], durations: list[float], music: MusicBedAsset | None,
                 step: str) -> str:
    """The track's key once it is stored: its pieces levelled where missing, then joined and encoded once.
    ``step`` names where a fault may be injected (``REELFLOW_INJECT_FAULTS``)."""
    store = storage()
    pieces = levelled_pieces(voices, durations, step)
    peaks = [p[1] for p in pieces if p]

    def encode(scratch: Path) -> Path:
        segments = [(store.local_copy(p[0], scratch) if p else None, seconds)
                    for seconds, p in zip(durations, pieces, strict=True)]
        bed = MusicBed(store.local_copy(music.key, scratch), music.volume) if music else None
        return build_narration(segments, scratch / "narration.m4a", music=bed, target_lufs=TARGET_LUFS,
                               true_peak=TRUE_PEAK, known_peak=max(peaks) if peaks else None)

    return stored(narration_key(durations, pieces, music), encode, task=step)


def _bed(options: MusicOptions | None, seconds: float, seed: int) -> MusicBedAsset | None:
    if options is None or not options.enabled:
        return None
    try:
        bed: MusicBedAsset = configured(make_music)(options, seconds, seed)
    except Exception as exc:
        raise MusicFailed(str(exc) if isinstance(exc, ReelflowError) else f"{type(exc).__name__}: {exc}") from exc
    return bed


def track_key(plan: list[SceneSpec], voices: list[VoiceAsset | None], fps: int, music: MusicOptions | None,
              seed: int) -> str:
    """The track a job's narration task makes, from its parameters (its cache key: see ``asset_cache``)."""
    durations = [scene_seconds(s, v, fps) for s, v in zip(plan, voices, strict=True)]
    pieces: list[Piece] = [(levelled_key(v, d), 0.0) if v else None for v, d in zip(voices, durations, strict=True)]
    bed = None
    if music is not None and music.enabled:
        bed = MusicBedAsset(key=music_key(music, sum(durations), seed), volume=music.volume)
    return narration_key(durations, pieces, bed)


@task(name="narration", task_run_name="narration", cache_key_fn=asset_cache(track_key))
def narrate_track(plan: list[SceneSpec], voices: list[VoiceAsset | None], fps: int, music: MusicOptions | None,
                  seed: int) -> NarrationTrack:
    """Level every scene's narration, make the music bed (``music``, seeded by ``seed``) and join them into the
    job's one narration track, while the scenes render."""
    durations = [scene_seconds(s, v, fps) for s, v in zip(plan, voices, strict=True)]
    bed = _bed(music, sum(durations), seed)
    return NarrationTrack(key=ensure_track(voices, durations, bed, "narration"), music=bed)

