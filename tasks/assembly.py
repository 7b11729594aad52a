"""The whole video: scene clips joined by stream copy, one narration track (with the music bed ducked under it when
the job has music), then the published files.

The narration track is built from per-scene levelled pieces (``media.audio.level_scene``), each a content-addressed
asset of its narration and its scene's length: a job whose scenes were levelled before (an edit that changed one
scene, a rerun) levels only the scenes that are new, and the whole track is a join of stored pieces plus one small
gain, stored as its own asset (``narration_key``) so that an edit of pictures only reuses it whole.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from prefect import task

from core.edits import EditPlan
from core.results import SceneAssets, SceneSpec, VideoResult, VoiceAsset
from core.storage import content_key
from media.assemble import clip_videos, concat_clips, extract_poster
from media.audio import build_narration, level_scene
from media.captions import Cue, Word, group_words, offset_cues, write_sidecars
from media.mix import MusicBed
from media.probe import VideoStream, probe
from tasks.common import RENDERER_VERSION, asset_cache, renderer_of, storage, stored, workdir
from tasks.music import MusicBedAsset
from tasks.video import RenderedScene

#: How the narration track is made (2: per-scene levelled pieces, one AAC encode with the fast coder); part of the
#: assembly key, so a video joined the earlier way is joined again rather than reused.
NARRATION = "2"
#: Loudness every piece is levelled to, and the true-peak ceiling (DESIGN.md §7).
TARGET_LUFS, TRUE_PEAK = -16.0, -1.0


def assembly_key(scenes: list[RenderedScene], voices: list[VoiceAsset | None],
                 music: MusicBedAsset | None = None) -> str:
    bed = {"music": music.key, "volume": music.volume} if music else {}  # absent: keys from before music stay put
    return content_key(
        "assembly", "mp4", clips=[s.clip for s in scenes], durations=[s.duration for s in scenes],
        audio=[v.wav if v else None for v in voices], renderer=RENDERER_VERSION, narration=NARRATION, **bed,
    )


def narration_key(scenes: list[RenderedScene], pieces: list[tuple[str, float] | None],
                  music: MusicBedAsset | None) -> str:
    """The whole narration track (AAC): its levelled pieces, the scenes' lengths and the music bed. An edit that
    changed only pictures keeps every piece, so it reuses the track instead of measuring, levelling and encoding
    the whole video's audio again."""
    bed = {"music": music.key, "volume": music.volume} if music else {}
    return content_key("narration", "m4a", pieces=[p[0] if p else None for p in pieces],
                       durations=[s.duration for s in scenes], lufs=TARGET_LUFS, peak=TRUE_PEAK,
                       renderer=RENDERER_VERSION, narration=NARRATION, **bed)


def levelled_key(voice: VoiceAsset, seconds: float) -> str:
    """A scene's levelled narration: its narration file at its scene's exact length (in samples), at the target."""
    return content_key("levelled", "flac", wav=voice.wav, samples=round(seconds * 48_000), lufs=TARGET_LUFS,
                       peak=TRUE_PEAK, renderer=RENDERER_VERSION)


def _levelled(voice: VoiceAsset, seconds: float) -> tuple[str, float]:
    """The scene's levelled piece (made only when not stored yet) and its true peak (dBTP)."""
    store = storage()
    key = levelled_key(voice, seconds)
    facts_key = key.rsplit(".", 1)[0] + ".json"

    def level(tmp: Path) -> Path:
        made = level_scene(store.local_copy(voice.wav, tmp), seconds, tmp / "levelled.flac",
                           target_lufs=TARGET_LUFS, true_peak=TRUE_PEAK)
        store.put_bytes(facts_key, json.dumps({"lufs": made.lufs, "peak": made.peak}).encode())
        return tmp / "levelled.flac"

    stored(key, level, task="assemble", beside=(facts_key,))
    return key, float(json.loads(store.get_bytes(facts_key))["peak"])


def levelled_pieces(scenes: list[RenderedScene], voices: list[VoiceAsset | None]) -> list[tuple[str, float] | None]:
    """Every narrated scene's levelled piece and peak (None for a silent scene), missing ones made two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = {i: pool.submit(_levelled, v, s.duration) for i, (s, v) in enumerate(zip(scenes, voices, strict=True))
                if v is not None}
        return [made[i].result() if i in made else None for i in range(len(scenes))]


@task(name="assemble", task_run_name="assemble", cache_key_fn=asset_cache(assembly_key))
def assemble(scenes: list[RenderedScene], voices: list[VoiceAsset | None], music: MusicBedAsset | None = None) -> str:
    """Concatenate the clips without re-encoding and mux one loudness-normalised narration track, with ``music``
    (a bed already fitted to the video's length) ducked under the voice when given."""
    store = storage()
    key = assembly_key(scenes, voices, music)

    def join(tmp: Path) -> Path:
        clips = [store.local_copy(s.clip, tmp) for s in scenes]
        pieces = levelled_pieces(scenes, voices)
        peaks = [p[1] for p in pieces if p]

        def narrate(scratch: Path) -> Path:
            segments = [(store.local_copy(p[0], scratch) if p else None, s.duration)
                        for s, p in zip(scenes, pieces, strict=True)]
            bed = MusicBed(store.local_copy(music.key, scratch), music.volume) if music else None
            return build_narration(segments, scratch / "narration.m4a", music=bed, target_lufs=TARGET_LUFS,
                                   true_peak=TRUE_PEAK, known_peak=max(peaks) if peaks else None)

        track = stored(narration_key(scenes, pieces, music), narrate, task="assemble")
        audio = store.local_copy(track, tmp)
        final = concat_clips(clips, tmp / "final.mp4", audio=audio, videos=_videos(scenes, clips))
        _describe(final, key, tmp)
        return final

    return stored(key, join, task="assemble", beside=(_poster_key(key), _facts_key(key)))


def _videos(scenes: list[RenderedScene], clips: list[Path]) -> list[VideoStream | None]:
    """The clips' video parameters for the concat check: stored beside each clip at its first join, so a join of
    mostly known clips (an edit) probes only the new ones."""
    store = storage()
    keys = [s.clip.rsplit(".", 1)[0] + ".video.json" for s in scenes]
    known = [json.loads(store.get_bytes(k)) if store.exists(k) else None for k in keys]
    missing = [i for i, facts in enumerate(known) if facts is None]
    for i, video in zip(missing, clip_videos([clips[i] for i in missing]), strict=True):
        if video is not None:
            store.put_bytes(keys[i], json.dumps(asdict(video)).encode())
        known[i] = asdict(video) if video else None
    return [VideoStream(**facts) if facts else None for facts in known]


def _poster_key(key: str) -> str:
    return key.rsplit(".", 1)[0] + ".poster.jpg"


def _facts_key(key: str) -> str:
    return key.rsplit(".", 1)[0] + ".facts.json"


def _describe(final: Path, key: str, tmp: Path) -> dict[str, float]:
    """Store the film's poster and probed facts beside it, once per assembly rather than once per job: an identical
    rerun then publishes without starting ffmpeg."""
    info = probe(final)
    if info.video is None:
        raise ValueError("assembled video has no video stream")
    facts = {"duration": round(info.duration, 3), "width": info.video.width, "height": info.video.height,
             "size_bytes": info.size_bytes}
    storage().put_file(_poster_key(key), extract_poster(final, tmp / "poster.jpg"))
    storage().put_bytes(_facts_key(key), json.dumps(facts).encode())
    return facts


def scene_renderers(image: str, voice: VoiceAsset | None, video: str | None) -> dict[str, str]:
    """Who made one scene's still, narration and clip (a still-only scene has no "video")."""
    made = {"image": renderer_of(image) or "local"}
    if voice is not None:
        made["voice"] = voice.rendered_by
    if video:
        made["video"] = renderer_of(video) or "local"
    return made


def whole_video_cues(scenes: list[RenderedScene], voices: list[VoiceAsset | None]) -> list[Cue]:
    """Caption cues in whole-video time: each scene's cues shifted by where the scene starts."""
    cues: list[Cue] = []
    offset = 0.0
    for scene, voice in zip(scenes, voices, strict=True):
        if voice:
            cues += offset_cues(group_words([Word(w.text, w.start, w.end) for w in voice.words]), offset)
        offset += scene.duration
    return cues


def publish(
    job_id: str,
    assembled: str,
    plan: list[SceneSpec],
    images: list[str],
    scenes: list[RenderedScene],
    voices: list[VoiceAsset | None],
    videos: list[str | None],
    aspect_ratio: str,
    edit: EditPlan | None = None,
) -> VideoResult:
    """Put the final MP4, SRT/VTT captions and a poster under ``jobs/<id>/`` and describe them.

    A plain function run in the flow, not a task: its files belong to this job (nothing to cache) and its failure
    is not transient (nothing to retry), so a task run would only add bookkeeping beside the renders.

    For an edit, each scene says whether it was ``reused`` (its clip is the original's) and the result names the
    request it was ``edited_from``.
    """
    store = storage()
    prefix = f"jobs/{job_id}"
    with workdir() as tmp:
        local = store.local_copy(assembled, tmp)
        if store.exists(_facts_key(assembled)) and store.exists(_poster_key(assembled)):
            facts = json.loads(store.get_bytes(_facts_key(assembled)))
        else:  # an assembly stored before its poster and facts were kept beside it
            facts = _describe(local, assembled, tmp)
        srt, vtt = tmp / "captions.srt", tmp / "captions.vtt"
        write_sidecars(whole_video_cues(scenes, voices), srt, vtt)
        store.put_file(f"{prefix}/video.mp4", local)
        store.put_file(f"{prefix}/captions.srt", srt)
        store.put_file(f"{prefix}/captions.vtt", vtt)
        store.put_file(f"{prefix}/poster.jpg", store.local_copy(_poster_key(assembled), tmp))
    scene_assets = [
        SceneAssets(index=s.index, text=p.text, duration=s.duration, image=img, voice=v.wav if v else "",
                    clip=s.clip, video=vid, rendered_by=scene_renderers(img, v, vid),
                    reused=edit.previous_clips.get(s.index) == s.clip if edit else None)
        for p, img, s, v, vid in zip(plan, images, scenes, voices, videos, strict=True)
    ]
    rendered_by, renderers = VideoResult.renderers_of(scene_assets)
    result = VideoResult(
        video=f"{prefix}/video.mp4", srt=f"{prefix}/captions.srt", vtt=f"{prefix}/captions.vtt",
        poster=f"{prefix}/poster.jpg", duration=facts["duration"], width=int(facts["width"]),
        height=int(facts["height"]), aspect_ratio=aspect_ratio,  # type: ignore[arg-type]
        size_bytes=int(facts["size_bytes"]), rendered_by=rendered_by, renderers=renderers, scenes=scene_assets,
        edited_from=edit.edited_from if edit else None,
    )
    store.put_bytes(f"{prefix}/result.json", result.model_dump_json().encode())  # what /status reads
    return result
