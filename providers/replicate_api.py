"""Replicate: FLUX / Imagen / Recraft / SD stills, Kling / Veo / Seedance / Luma / Hailuo / Runway clips and Stable
Audio music.

The only module that imports ``replicate``. Measured with replicate 1.0.7, and why the code looks like this:

- ``client.run`` and ``Prediction.wait()`` poll forever, so we create with ``client.models.predictions.create`` and
  poll under our own deadline (:func:`providers.vendor_common.poll`), cancelling the prediction when it passes.
- The SDK wraps every HTTP client in a ``RetryTransport`` that retries GETs up to 10 times on 429/503 (a create
  POST is never retried: a 429 raises). Our tasks own retries, so :class:`_Client` gives the SDK a plain httpx
  client with an explicit timeout; ``REPLICATE_BASE_URL`` becomes its base URL.
- ``ReplicateError`` drops the response headers, so an httpx response hook keeps ``Retry-After`` for the seam.
- Outputs are URLs (plain strings from ``predictions.get``); they expire, so they are downloaded at once.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from replicate.client import Client
from replicate.exceptions import ModelError, ReplicateError, ReplicateException
from replicate.prediction import Prediction

from core.errors import FatalProviderError
from core.settings import get_settings
from providers.base import ClipRequest, ImageRequest, MusicRequest
from providers.vendor_common import (
    bad_response,
    download,
    failed_job,
    limited,
    poll,
    refused,
    retry_after,
    status_error,
    timed_out,
    unreachable,
)
from providers.vendor_media import MUSIC_PROMPTS, as_png, image_data_url, music_prompt

VENDOR = "replicate"
DEFAULT_BASE_URL = "https://api.replicate.com"
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
_POLICY = re.compile(r"nsfw|safety|sensitive|content.?polic|flagged|moderat", re.IGNORECASE)
_seen = threading.local()


def _remember(response: httpx.Response) -> None:
    _seen.retry_after = retry_after(response.headers) if response.status_code >= 400 else None


class _Client(Client):
    """Replicate's client on our own httpx client: explicit timeout, no SDK retries, Retry-After kept."""

    def __init__(self, token: str, base_url: str, timeout: float) -> None:
        super().__init__(api_token=token, base_url=base_url)
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, event_hooks={"response": [_remember]},
            headers={"Authorization": f"Bearer {token}", "User-Agent": "reelflow (replicate-python/1.0.7)"},
        )

    @property
    def _client(self) -> httpx.Client:
        return self._http


@lru_cache(maxsize=4)
def _client_for(token: str, base_url: str, timeout: float) -> _Client:
    return _Client(token, base_url, timeout)


def client() -> Client:
    settings = get_settings()
    token = settings.replicate_api_token.get_secret_value() if settings.replicate_api_token else ""
    if not token:
        raise FatalProviderError("Replicate is not configured on this server (REPLICATE_API_TOKEN)", provider=VENDOR)
    return _client_for(token, (settings.replicate_base_url or DEFAULT_BASE_URL).rstrip("/"), settings.provider_timeout)


@contextmanager
def _map_errors(what: str) -> Iterator[None]:
    """The one seam where Replicate's (and its httpx client's) exceptions become :mod:`core.errors`."""
    _seen.retry_after = None
    try:
        yield
    except ReplicateError as exc:
        detail = exc.detail or exc.title or ""
        if exc.status in (400, 422) and _POLICY.search(detail):
            raise refused(VENDOR, detail) from exc
        raise status_error(VENDOR, exc.status or 500, detail, retry_after=getattr(_seen, "retry_after", None),
                           credential="API token") from exc
    except ModelError as exc:
        raise failed_job(VENDOR, exc.prediction.error or "the model failed") from exc
    except ReplicateException as exc:
        raise FatalProviderError(f"Replicate client error on {what}: {type(exc).__name__}", provider=VENDOR) from exc
    except httpx.TimeoutException as exc:
        raise timed_out(VENDOR, what) from exc
    except httpx.TransportError as exc:
        raise unreachable(VENDOR, exc) from exc
    except (ValueError, KeyError) as exc:  # a 2xx body that is not the JSON the SDK expects
        raise bad_response(VENDOR, f"{what} answer could not be read") from exc


def image_input(model_id: str, request: ImageRequest) -> dict[str, Any]:
    """The documented inputs of each image model (Imagen and Recraft take no seed or output format)."""
    inputs: dict[str, Any] = {"prompt": request.prompt, "aspect_ratio": request.aspect_ratio}
    if model_id not in ("google/imagen-3", "google/imagen-4", "recraft-ai/recraft-v3"):
        inputs |= {"seed": request.seed, "output_format": "png"}
    return inputs


_VIDEO_INPUTS: dict[str, Callable[[str, ClipRequest], dict[str, Any]]] = {
    "kwaivgi/kling-v1.6-pro": lambda image, r: {"prompt": r.prompt, "start_image": image, "duration": int(r.duration)},
    "luma/ray-2-720p": lambda image, r: {"prompt": r.prompt, "start_image": image, "duration": int(r.duration)},
    "minimax/video-01": lambda image, r: {"prompt": r.prompt, "first_frame_image": image, "prompt_optimizer": True},
    "runwayml/gen4-turbo": lambda image, r: {
        "prompt": r.prompt, "image": image, "duration": int(r.duration), "aspect_ratio": r.aspect_ratio,
    },
    "google/veo-3.1": lambda image, r: {
        "prompt": r.prompt, "image": image, "duration": int(r.duration), "aspect_ratio": r.aspect_ratio,
        "generate_audio": False,
    },
    "bytedance/seedance-1-pro": lambda image, r: {
        "prompt": r.prompt, "image": image, "duration": int(r.duration), "resolution": "720p",
    },
}


def video_input(model_id: str, request: ClipRequest) -> dict[str, Any]:
    """The documented inputs of each image-to-video model; the start frame goes inline as a small data URL."""
    build = _VIDEO_INPUTS.get(model_id)
    if build is None:
        raise FatalProviderError(f"Replicate model {model_id} has no input mapping in reelflow", provider=VENDOR)
    return build(image_data_url(request.image), request)


def _output_url(output: Any) -> str:
    first = output[0] if isinstance(output, list) and output else output
    if not isinstance(first, str) or not first.startswith(("http://", "https://")):
        raise bad_response(VENDOR, "the prediction succeeded without an output URL")
    return first


def _cancel(c: Client, prediction_id: str) -> None:
    with _map_errors("cancelling the prediction"):
        c.predictions.cancel(prediction_id)


def run_prediction(model_id: str, inputs: dict[str, Any], what: str) -> bytes:
    """Create a prediction, poll it under our deadline, and download its output."""
    c = client()
    with limited(VENDOR):
        with _map_errors(f"creating the {what}"):
            prediction = c.models.predictions.create(model=model_id, input=inputs)

        def fetch() -> Prediction:
            with _map_errors(f"polling the {what}"):
                return c.predictions.get(prediction.id)

        if prediction.status not in TERMINAL:
            prediction = poll(VENDOR, fetch, lambda p: p.status in TERMINAL,
                              cancel=lambda: _cancel(c, prediction.id), what=f"the {what}")
        if prediction.status == "succeeded":
            return download(VENDOR, _output_url(prediction.output))
    reason = prediction.error or ("the prediction was cancelled" if prediction.status == "canceled" else "")
    if _POLICY.search(str(reason)):
        raise refused(VENDOR, reason)
    raise failed_job(VENDOR, reason or "the prediction failed")


class ReplicateImageProvider:
    name = VENDOR

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def generate(self, request: ImageRequest) -> bytes:
        data = run_prediction(self.model_id, image_input(self.model_id, request), "image")
        try:
            return as_png(data)
        except ValueError as exc:
            raise bad_response(VENDOR, "the image output could not be decoded") from exc


class ReplicateVideoProvider:
    name = VENDOR

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def animate(self, request: ClipRequest, out: Path) -> Path:
        out.write_bytes(run_prediction(self.model_id, video_input(self.model_id, request), "video clip"))
        return out


#: Stable Audio 2.5 on Replicate, created on its model path like the other models here (not yet confirmed against
#: the live API: the model page also lists version ids; see docs/providers.md). Its input schema:
#: ``prompt``, ``duration`` (seconds, 1-190; an older version 1-180, so we stay within that), ``seed``, ``steps``,
#: ``cfg_scale``; the output is one audio file URL.
MUSIC_MODEL = "stability-ai/stable-audio-2.5"
MUSIC_MAX_SECONDS = 180
#: Ask for at least this much: a longer bed loops with fewer seams (media.music_fit needs >= 3 s anyway).
MUSIC_MIN_SECONDS = 10


def music_input(request: MusicRequest) -> dict[str, Any]:
    """The documented inputs: the mood as a prompt, the length in whole seconds (capped), the seed (32-bit)."""
    seconds = min(max(math.ceil(request.seconds), MUSIC_MIN_SECONDS), MUSIC_MAX_SECONDS)
    return {"prompt": music_prompt(request.mood), "duration": seconds, "seed": request.seed % 4294967295}


class ReplicateMusicProvider:
    """Background music from a text-to-music model; longer videos loop the (at most 180 s) track."""

    name = VENDOR

    def __init__(self, model_id: str = MUSIC_MODEL) -> None:
        self.model_id = model_id

    def compose(self, request: MusicRequest) -> bytes:
        if request.mood not in MUSIC_PROMPTS:
            raise FatalProviderError(f"no music prompt for mood '{request.mood}'", provider=VENDOR)
        return run_prediction(self.model_id, music_input(request), "music")
