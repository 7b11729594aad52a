"""The still for each scene."""

from __future__ import annotations

from prefect import task

from core.results import SceneSpec
from core.storage import content_key
from providers import registry
from providers.base import ImageRequest
from tasks.common import RENDERER_VERSION, asset_cache, record_renderer, stored, vendor_slot


def image_key(scene: SceneSpec, model: str, width: int, height: int, aspect_ratio: str) -> str:
    return content_key(
        "image", "png", model=model, prompt=scene.image_prompt, seed=scene.seed, backend=registry.renderer_for(model),
        size=f"{width}x{height}", aspect=aspect_ratio, renderer=RENDERER_VERSION,
    )


@task(name="make-image", task_run_name="image-{scene.index}", cache_key_fn=asset_cache(image_key))
def make_image(scene: SceneSpec, model: str, width: int, height: int, aspect_ratio: str) -> str:
    """Generate (or find) the scene's still and return its storage key."""
    key = image_key(scene, model, width, height, aspect_ratio)

    def draw(_: object) -> bytes:
        request = ImageRequest(scene.image_prompt, width, height, scene.seed, aspect_ratio)
        with vendor_slot(registry.renderer_for(model)):
            data, rendered_by = registry.generate_image(model, request)
        record_renderer(key, rendered_by)
        return data

    return stored(key, draw, task="make-image", text=scene.text)
