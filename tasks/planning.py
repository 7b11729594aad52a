"""Scene planning for narratives: one scene per line, each with a stable seed."""

from __future__ import annotations

import hashlib

from core.contract import NarrativeInput
from core.results import SceneSpec


def scene_seed(text: str, index: int) -> int:
    """A seed that depends only on the line and its place, so a rerun draws the same still."""
    return int(hashlib.sha256(f"{index}:{text}".encode()).hexdigest()[:8], 16)


def plan_scenes(request: NarrativeInput) -> list[SceneSpec]:
    """Turn the narrative's lines into scenes (1-based index, prompt, seed).

    Plain bookkeeping run inline in the flow: a task run here cost more than the work and cached nothing.
    """
    return [
        SceneSpec(index=i, text=line, image_prompt=line, seed=scene_seed(line, i))
        for i, line in enumerate(request.prompt_list, start=1)
    ]
