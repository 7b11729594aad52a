"""Offline background music: the deterministic generator of :mod:`media.music`, behind the provider protocol."""

from __future__ import annotations

from typing import cast

from media.music import Mood, render_music
from providers.base import MusicRequest

RENDERER_VERSION = "local-music-1"
"""Part of the music asset's cache key: bump whenever a change to the generator alters its output."""


class LocalMusicProvider:
    """Composes a bed in the mood; the same (mood, seed, seconds) always gives the same bytes (a 48 kHz WAV)."""

    name = "local"

    def compose(self, request: MusicRequest) -> bytes:
        return render_music(cast(Mood, request.mood), request.seed, request.seconds)
