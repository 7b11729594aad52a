"""Scene timing: every duration we hand to ffmpeg is a whole number of frames.

Video can only change at frame boundaries, so a scene that is not frame-aligned makes the concatenated video and
the narration track drift apart by up to a frame per scene. Aligning each scene (and padding its audio to exactly
the same length, see ``media.audio``) keeps picture and sound in step across any number of scenes.
"""

from __future__ import annotations

import math

#: Narration gets this much air after its last word before the cut.
NARRATION_TAIL_S = 0.3
#: No scene is shorter than this, however short its line.
MIN_SCENE_S = 2.0
#: A scene without narration (a pure visual) holds this long.
SILENT_SCENE_S = 5.0
#: Float slack when converting seconds to frames, so 2.0 s at 30 fps is 60 frames, not 61.
_EPSILON = 1e-6


def frame_count(seconds: float, fps: float) -> int:
    """Number of frames in an already frame-aligned duration (rounds to the nearest frame)."""
    return round(seconds * fps)


def frame_align(seconds: float, fps: float) -> float:
    """Round ``seconds`` UP to a whole number of frames: never cut the end of a narration short."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    return math.ceil(seconds * fps - _EPSILON) / fps


def scene_duration(narration_seconds: float | None, fps: int) -> float:
    """How long a scene lasts: narration + 0.3 s but at least 2 s, or 5 s without narration; frame-aligned."""
    if narration_seconds is None:
        return frame_align(SILENT_SCENE_S, fps)
    return frame_align(max(narration_seconds + NARRATION_TAIL_S, MIN_SCENE_S), fps)
