"""Scene planning: one scene per line with a stable seed, then the caller's per-scene overrides.

Overrides (``core.edits``) are applied here, after the plan, so a flow never needs to know whether it is replaying
an edit: a new line replaces only the narration (the still keeps the original line's prompt and seed, so it stays
cached), a reroll changes one asset's seed, and a caller's URL replaces the generated still or clip.
"""

from __future__ import annotations

import hashlib

from core.contract import NarrativeInput
from core.edits import EditPlan, SceneOverride
from core.results import SceneSpec
from core.scene_media import SceneMedia


def scene_seed(text: str, index: int) -> int:
    """A seed that depends only on the line and its place, so a rerun draws the same still."""
    return int(hashlib.sha256(f"{index}:{text}".encode()).hexdigest()[:8], 16)


def _override(scene: SceneSpec, media: SceneMedia | None, change: SceneOverride | None) -> SceneSpec:
    update: dict[str, object] = {}
    if media is not None:
        update.update(image_url=media.image_url, video_url=media.video_url)
    if change is not None:
        if change.text is not None:
            update["text"] = change.text
        if change.image_seed:
            update["seed"] = scene_seed(f"{scene.image_prompt}#reroll-{change.image_seed}", scene.index)
        update.update(voice_seed=change.voice_seed, clip_seed=change.clip_seed)
        for field in ("image_url", "video_url"):
            if (url := getattr(change, field)) is not None:
                update[field] = url or None  # "": the caller's file was dropped by a reroll
    return scene.model_copy(update=update) if update else scene


def with_overrides(plan: list[SceneSpec], media: dict[int, SceneMedia] | None = None,
                   edit: EditPlan | None = None) -> list[SceneSpec]:
    """The plan with the request's caller media and an edit's overrides applied, scene by scene."""
    media, changes = media or {}, edit.scenes if edit else {}
    return [_override(s, media.get(s.index), changes.get(s.index)) for s in plan]


def plan_scenes(request: NarrativeInput, edit: EditPlan | None = None) -> list[SceneSpec]:
    """Turn the narrative's lines into scenes (1-based index, prompt, seed), with any overrides applied.

    Plain bookkeeping run inline in the flow: a task run here cost more than the work and cached nothing.
    """
    plan = [
        SceneSpec(index=i, text=line, image_prompt=line, seed=scene_seed(line, i))
        for i, line in enumerate(request.prompt_list, start=1)
    ]
    return with_overrides(plan, request.scene_media, edit)
