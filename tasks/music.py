"""The background music of a job: composed in the mood (or fetched from the caller's URL), fitted to the video's
length with fades, and stored as a cached asset like every other one.

The cache key names where the music comes from (the composer's renderer name, or the caller's URL), the mood, the
seed, the exact length in samples and :data:`FIT_VERSION`, so a rerun finds the bed without calling anyone, and a
change to any of them (another length after an edit, another composer) makes a new one. A vendor track is asked
for in the job's length (capped by the model); :func:`media.music_fit.fit_track` loops or trims it to the sample.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from prefect import task
from pydantic import BaseModel, ConfigDict

from core.errors import RenderError
from core.storage import content_key
from core.styles import MusicOptions
from media.music_fit import SAMPLE_RATE, fit_track
from providers import music_source
from providers.base import MusicRequest
from tasks.common import asset_cache, record_renderer, stored, vendor_slot

#: Part of the key: bump when a change to media.music_fit (fades, loop seams) alters the fitted bed.
FIT_VERSION = "fit-1"


class MusicBedAsset(BaseModel):
    """A stored bed, exactly as long as the job's video, and the level the caller asked for it."""

    model_config = ConfigDict(frozen=True)

    key: str
    volume: float


def music_seed(text: str) -> int:
    """A seed from the job's words: the same request gets the same music; another request, other music."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def music_key(options: MusicOptions, seconds: float, seed: int) -> str:
    source = f"url:{options.url}" if options.url else music_source.music_renderer()
    return content_key("music", "wav", source=source, mood=None if options.url else options.mood,
                       seed=None if options.url else seed, samples=round(seconds * SAMPLE_RATE), fit=FIT_VERSION)


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}{parts.path[-40:]}"


def _file_name(url: str | None) -> str:
    """The downloaded file's name: the URL's own (made safe), so ffmpeg's reasons name the caller's file."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(urlsplit(url or "").path).name)[-60:].lstrip(".")
    return name or "track"


@task(name="make-music", task_run_name="music", cache_key_fn=asset_cache(music_key))
def make_music(options: MusicOptions, seconds: float, seed: int) -> MusicBedAsset:
    """Compose (or fetch) the job's music and fit it to ``seconds`` with fades; reuse the stored bed if there is one.

    A caller's track that is no music (no audio stream, undecodable, under 3 s) fails with a reason naming
    ``music.url``; the flow reports it as "music failed: ...".
    """
    key = music_key(options, seconds, seed)

    def make(tmp: Path) -> Path:
        (tmp / "in").mkdir()
        source = tmp / "in" / _file_name(options.url)
        if options.url:
            source.write_bytes(music_source.fetch_track(options.url))
            rendered_by = "url"
        else:
            with vendor_slot(music_source.music_renderer()):
                data, rendered_by = music_source.compose(MusicRequest(options.mood, seconds, seed))
            source.write_bytes(data)
        try:
            bed = fit_track(source, tmp / "bed.wav", seconds)
        except RenderError as exc:
            if not options.url:
                raise
            raise RenderError(f"music.url ({_where(options.url)}) cannot be used: {exc}") from exc
        record_renderer(key, rendered_by)
        return bed

    return MusicBedAsset(key=stored(key, make, task="make-music"), volume=options.volume)
