"""What jobs produce and pass between their steps: planned scenes, narration with word timings, the final result.

Flows return :class:`VideoResult`; ``/status`` and webhooks turn its storage keys into links.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.contract import AspectRatio


class SceneAssets(BaseModel):
    """What one scene produced, as storage keys; shown per scene in the result."""

    index: int
    text: str
    duration: float
    image: str
    voice: str
    clip: str
    video: str | None = None
    #: Who made each of the scene's assets: {"image": ..., "voice": ..., "video": ...} (backend names).
    rendered_by: dict[str, str] = Field(default_factory=dict)
    #: Edits only: true when the scene's clip is the original job's (nothing of it was made again).
    reused: bool | None = None


def _joined(names: set[str]) -> str:
    return ",".join(sorted(names))


class VideoResult(BaseModel):
    """What a narrative or movie flow returns; ``/status`` turns the keys into links."""

    video: str
    srt: str
    vtt: str
    poster: str
    duration: float
    width: int
    height: int
    aspect_ratio: AspectRatio
    size_bytes: int
    scenes: list[SceneAssets] = Field(default_factory=list)
    #: Every backend that made an asset, comma-joined ("local" offline); per kind in ``renderers``.
    rendered_by: str = "local"
    #: Per asset kind ("image", "voice", "video"), the backends that made that kind, comma-joined.
    renderers: dict[str, str] = Field(default_factory=dict)
    #: Edits only: the request id this video was edited from.
    edited_from: str | None = None

    @classmethod
    def renderers_of(cls, scenes: list[SceneAssets]) -> tuple[str, dict[str, str]]:
        """``rendered_by`` and ``renderers`` summarised from the scenes' own ``rendered_by`` maps."""
        kinds: dict[str, set[str]] = {}
        for scene in scenes:
            for kind, name in scene.rendered_by.items():
                kinds.setdefault(kind, set()).add(name)
        everyone = set().union(*kinds.values()) if kinds else {"local"}
        return _joined(everyone), {kind: _joined(names) for kind, names in kinds.items()}


def local_parts(renderers: dict[str, str]) -> list[str]:
    """The asset kinds the local renderers made (some or all of) in a job vendors also worked on, in a fixed order.

    Empty when no vendor made anything (offline): ``rendered_by: "local"`` already says it all there.
    """
    made = {name for names in renderers.values() for name in names.split(",") if name} - {"caller"}
    if made <= {"local"}:
        return []
    return [kind for kind in ("image", "voice", "video") if "local" in renderers.get(kind, "").split(",")]


class SceneSpec(BaseModel):
    """One planned scene: its narration, the prompt for its still, and the seed that makes it reproducible."""

    model_config = ConfigDict(frozen=True)

    index: int
    text: str
    image_prompt: str
    seed: int
    clip_length: float | None = None
    #: On-screen seconds when planned up front (movies); None: the narration decides (narratives).
    duration: float | None = None
    #: Reroll counts of the narration and the clip (0: never rerolled; only a non-zero one enters a content key).
    voice_seed: int = 0
    clip_seed: int = 0
    #: The caller's own still or clip (``/edit`` or ``prompt_list`` objects), used instead of a generated one.
    image_url: str | None = None
    video_url: str | None = None


class TimedWord(BaseModel):
    """A narrated word and when it is spoken, in seconds from the start of its scene."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: float
    end: float


class VoiceAsset(BaseModel):
    """A scene's narration in storage, with the word timings captions are built from."""

    model_config = ConfigDict(frozen=True)

    wav: str
    words: list[TimedWord]
    duration: float
    rendered_by: str = "local"
