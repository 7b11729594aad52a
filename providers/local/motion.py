"""Offline image-to-video: Ken-Burns motion from the still, standing in for a generative video model.

The flows do not call this for their own scenes (a local video model's motion is made in the scene render, in the
same encode as its captions); it serves direct provider use. Its clip is an intermediate that the scene render
encodes again, so it uses ``REELFLOW_X264_INTERMEDIATE_PRESET`` (faster than the final encode's preset).
"""

from __future__ import annotations

from pathlib import Path

from core.settings import get_settings
from media.scene import motion_for, render_still_clip
from providers.base import ClipRequest


class LocalVideoProvider:
    """Renders a motion clip (zoom or pan, alternating per scene) from the scene's still."""

    name = "local"

    def animate(self, request: ClipRequest, out: Path) -> Path:
        return render_still_clip(
            request.image,
            out,
            duration=request.duration,
            width=request.width,
            height=request.height,
            fps=request.fps,
            motion=motion_for(request.motion_index),
            ass=None,
            preset=get_settings().x264_intermediate_preset,
        )
