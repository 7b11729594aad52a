"""The whole video: scene clips joined by stream copy, one narration track (with the music bed ducked under it when
the job has music), then the published files.

The narration track is made by the ``narration`` task while the scenes render (``tasks.narration``); here it is
normally found stored, so assembling is a stream-copy join and mux. Whatever is missing is made here the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from prefect import task

from core.edits import EditPlan
from core.results import SceneAssets, SceneSpec, VideoResult, VoiceAsset
from core.storage import content_key
from media.assemble import clip_videos, concat_clips, extract_poster
from media.captions import Cue, Word, group_words, offset_cues, write_sidecars
from media.probe import VideoStream, probe
from tasks.common import RENDERER_VERSION, asset_cache, renderer_of, storage, stored, workdir
from tasks.music import MusicBedAsset
from tasks.narration import NARRATION, ensure_track
from tasks.video import RenderedScene, video_facts_key


def assembly_key(scenes: list[RenderedScene], voices: list[VoiceAsset | None],
                 music: MusicBedAsset | None = None) -> str:
    bed = {"music": music.key, "volume": music.volume} if music else {}  # absent: keys from before music stay put
    return content_key(
        "assembly", "mp4", clips=[s.clip for s in scenes], durations=[s.duration for s in scenes],
        audio=[v.wav if v else None for v in voices], renderer=RENDERER_VERSION, narration=NARRATION, **bed,
    )


@task(name="assemble", task_run_name="assemble", cache_key_fn=asset_cache(assembly_key))
def assemble(scenes: list[RenderedScene], voices: list[VoiceAsset | None], music: MusicBedAsset | None = None) -> str:
    """Concatenate the clips without re-encoding and mux one loudness-normalised narration track, with ``music``
    (a bed already fitted to the video's length) ducked under the voice when given."""
    store = storage()
    key = assembly_key(scenes, voices, music)

    def join(tmp: Path) -> Path:
        clips = [store.local_copy(s.clip, tmp) for s in scenes]
        track = ensure_track(voices, [s.duration for s in scenes], music, "assemble")  # stored by `narration`
        audio = store.local_copy(track, tmp)
        final = concat_clips(clips, tmp / "final.mp4", audio=audio, videos=_videos(scenes, clips))
        _describe(final, key, tmp)
        return final

    return stored(key, join, task="assemble", beside=(_poster_key(key), _facts_key(key)))


def _videos(scenes: list[RenderedScene], clips: list[Path]) -> list[VideoStream | None]:
    """The clips' video parameters for the concat check: stored beside each clip by its render (or, for a clip
    rendered before renders kept them, at its first join), so a join probes only clips nobody probed yet."""
    store = storage()
    keys = [video_facts_key(s.clip) for s in scenes]
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
