"""Offline renderers: used for every model when reelflow runs without vendor keys (``rendered_by: "local"``)."""

from providers.local.frames import LocalImageProvider
from providers.local.voice import LocalSpeechProvider, warm_up

__all__ = ["LocalImageProvider", "LocalSpeechProvider", "warm_up"]
