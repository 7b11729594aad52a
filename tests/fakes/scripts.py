"""A chat model that follows the script writer's instructions, for fakes whose ``script`` knob is None.

The user prompt of ``providers.script_writer.user_prompt`` lists one line per scene (``3. duration 6 s; narration:
at most 15 words``); the answer has exactly those scenes, with a visual and a short narration each.
"""

from __future__ import annotations

import re
from typing import Any

_SCENE = re.compile(r"^(\d+)\. duration ([\d.]+) s; narration: (.+)$", re.MULTILINE)


def follow(prompt: str) -> dict[str, Any]:
    """The script a well-behaved model writes for ``prompt``."""
    scenes = [
        {"visual": f"Scene {index}: a paper boat drifts down a rainy street, wide shot.",
         "narration": "" if "empty" in rule else f"The boat sails on, scene {index}.",
         "duration": float(seconds)}
        for index, seconds, rule in _SCENE.findall(prompt)
    ]
    return {"style": {"subject": "a small paper boat", "setting": "a rainy city street", "palette": "grey and yellow",
                      "look": "cinematic, soft light"}, "scenes": scenes}
