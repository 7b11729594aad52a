"""Offline image-to-video: Ken-Burns motion from the still, standing in for a generative video model."""

from __future__ import annotations

from pathlib import Path

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
        )
