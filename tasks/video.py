"""Per-scene video: the optional image-to-video clip, then the finished scene clip with motion and captions.

When the video model is rendered locally (offline, or the local fallback), the flow skips ``animate``: the scene
clip is made straight from the still, motion, captions and fades in one encode, rather than encoding a motion clip
and then encoding it again to burn the captions in (see :func:`local_motion`). A vendor clip keeps its caption pass.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from prefect import task
from pydantic import BaseModel, ConfigDict

from core import catalog
from core.results import SceneSpec, VoiceAsset
from core.settings import get_settings
from core.storage import content_key
from core.styles import DEFAULT_CAPTIONS, CaptionOptions
from media.caption_styles import write_styled_ass
from media.captions import Word
from media.probe import probe
from media.scene import motion_for, render_still_clip, render_video_clip
from media.timing import scene_duration
from providers import registry
from providers.base import ClipRequest
from tasks.common import RENDERER_VERSION, asset_cache, record_renderer, storage, stored, vendor_slot

#: How scene clips are made (3: one encode per still scene, OpenCV motion, the "reelflow" x264 preset; bump when
#: ``media.scene.TUNED`` changes); part of the scene key with the x264 preset, so a changed method or
#: ``REELFLOW_X264_PRESET`` renders anew instead of reusing older clips.
SCENE_RENDER = "3"


class RenderedScene(BaseModel):
    """A finished scene clip (video only) and its exact, frame-aligned length."""

    model_config = ConfigDict(frozen=True)

    index: int
    clip: str
    duration: float


def clip_length_for(model: str, needed: float) -> float:
    """The shortest clip length the video model offers that covers ``needed`` seconds (else its longest)."""
    entry = catalog.find_model(model)
    lengths = sorted(entry.clip_lengths) if entry and entry.clip_lengths else [5.0]
    return next((length for length in lengths if length >= needed), lengths[-1])


def _clip_seconds(scene: SceneSpec, model: str, voice: VoiceAsset | None, fps: int) -> float:
    """The planned clip length (movies), else the model's shortest length that covers the narration."""
    return scene.clip_length or clip_length_for(model, scene_duration(voice.duration if voice else None, fps))


def scene_seconds(scene: SceneSpec, voice: VoiceAsset | None, fps: int) -> float:
    """How long a scene lasts: its planned length (movies), else as long as its narration needs (frame-aligned).
    Known once the narration exists, before the scene is rendered (the narration track is built from it)."""
    return scene.duration or scene_duration(voice.duration if voice else None, fps)


def motion_index(scene: SceneSpec) -> int:
    """Which camera move a scene gets: by its place, shifted by each clip reroll (so a reroll moves differently)."""
    return scene.index + scene.clip_seed


def _planned(scene: SceneSpec, fade: float) -> dict[str, float]:
    """Scene-key parts only movies set (planned duration, fade); left out when unset so narrative keys stay put."""
    return {name: value for name, value in (("duration", scene.duration), ("fade", fade)) if value}


def animation_key(
    scene: SceneSpec, image: str, voice: VoiceAsset | None, model: str, width: int, height: int, fps: int
) -> str:
    seconds = _clip_seconds(scene, model, voice, fps)
    return content_key(
        "animation", "mp4", image=image, model=model, prompt=scene.image_prompt, seconds=seconds,
        backend=registry.renderer_for(model),
        size=f"{width}x{height}", fps=fps, motion=scene.index, renderer=RENDERER_VERSION,
        **({"reroll": scene.clip_seed} if scene.clip_seed else {}),  # a clip reroll; unset, keys stay put
    )


@task(name="animate", task_run_name="video-{scene.index}", cache_key_fn=asset_cache(animation_key))
def animate(
    scene: SceneSpec, image: str, voice: VoiceAsset | None, model: str, width: int, height: int, fps: int
) -> str:
    """Turn the scene's still into a clip of the model's nearest clip length (offline: Ken-Burns motion)."""
    key = animation_key(scene, image, voice, model, width, height, fps)
    seconds = _clip_seconds(scene, model, voice, fps)

    def generate(tmp: Path) -> Path:
        request = ClipRequest(
            image=storage().local_copy(image, tmp), prompt=scene.image_prompt, duration=seconds,
            width=width, height=height, fps=fps, motion_index=motion_index(scene),
            aspect_ratio="16:9" if width > height else "9:16" if width < height else "1:1",
        )
        with vendor_slot(registry.renderer_for(model)):
            path, rendered_by = registry.animate(model, request, tmp / "clip.mp4")
        record_renderer(key, rendered_by)
        return path

    return stored(key, generate, task="animate", text=scene.text)


def local_motion(model: str | None) -> bool:
    """True when ``model``'s clips would be made here from the still: the scene render then makes the motion."""
    return bool(model) and registry.renderer_for(model or "") == "local"


def _styled(captions: CaptionOptions | None) -> dict[str, object]:
    """The caption style as a scene-key part, only when it is not the default (so existing scene caches stay valid)."""
    return {"captions": captions.model_dump()} if captions and captions != DEFAULT_CAPTIONS else {}


def scene_key(
    scene: SceneSpec, image: str, voice: VoiceAsset | None, video: str | None, width: int, height: int, fps: int,
    fade: float = 0.0, captions: CaptionOptions | None = None,
) -> str:
    return content_key(
        "scene", "mp4", image=image, video=video, words=voice.model_dump() if voice else None,
        size=f"{width}x{height}", fps=fps, motion=motion_for(motion_index(scene)), renderer=RENDERER_VERSION,
        encode=f"{SCENE_RENDER}:{get_settings().x264_preset}", **_planned(scene, fade), **_styled(captions),
    )


def video_facts_key(clip: str) -> str:
    """Where a scene clip's video parameters are kept: the join compares them before it stream-copies the clips."""
    return clip.rsplit(".", 1)[0] + ".video.json"


def remember_video(key: str, clip: Path) -> None:
    """Probe the clip just rendered and keep its parameters beside it: the probe (an ffmpeg start) then runs here,
    beside the other scenes' renders, instead of in the join, which waits for the last scene. A clip rendered
    before this kept nothing; the join probes it then (``tasks.assembly``)."""
    video = probe(clip).video
    if video is not None:
        storage().put_bytes(video_facts_key(key), json.dumps(asdict(video)).encode())


@task(name="render-scene", task_run_name="scene-{scene.index}", cache_key_fn=asset_cache(scene_key))
def render_scene(
    scene: SceneSpec, image: str, voice: VoiceAsset | None, video: str | None, width: int, height: int, fps: int,
    fade: float = 0.0, captions: CaptionOptions | None = None,
) -> RenderedScene:
    """Render the scene clip: motion (or the generated clip) with the narration's captions burned in.

    A planned ``scene.duration`` (movies) wins over the narration's length; ``fade`` > 0 fades through black;
    ``captions`` is the caller's caption style (``None``: the classic default; style "none": nothing burned in).
    """
    key = scene_key(scene, image, voice, video, width, height, fps, fade, captions)
    duration = scene_seconds(scene, voice, fps)
    preset = get_settings().x264_preset

    def render(tmp: Path) -> Path:
        store = storage()
        words = [Word(w.text, w.start, w.end) for w in voice.words] if voice else []
        ass = write_styled_ass(words, width, height, tmp / "captions.ass", captions or DEFAULT_CAPTIONS)
        out = tmp / "scene.mp4"
        if video:
            render_video_clip(store.local_copy(video, tmp), out, duration=duration, width=width, height=height,
                              fps=fps, ass=ass, fade=fade, preset=preset)
        else:
            render_still_clip(store.local_copy(image, tmp), out, duration=duration, width=width, height=height,
                              fps=fps, motion=motion_for(motion_index(scene)), ass=ass, fade=fade, preset=preset)
        remember_video(key, out)
        return out

    return RenderedScene(index=scene.index, clip=stored(key, render, task="render-scene", text=scene.text),
                         duration=duration)
