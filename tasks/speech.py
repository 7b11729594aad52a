"""The narration for each scene, stored as WAV with its word timings beside it."""

from __future__ import annotations

import json

from prefect import task

from core.contract import SceneSpec, TimedWord, VoiceAsset
from core.storage import content_key
from providers import registry
from tasks.common import RENDERER_VERSION, asset_cache, inject_fault, storage, vendor_slot


def voice_key(scene: SceneSpec, provider: str, speaker: str) -> str:
    return content_key("voice", "wav", provider=provider, speaker=speaker, text=scene.text, renderer=RENDERER_VERSION,
                       backend=registry.voice_renderer_for(provider))


@task(name="speak", task_run_name="voice-{scene.index}", cache_key_fn=asset_cache(voice_key))
def speak(scene: SceneSpec, provider: str, speaker: str) -> VoiceAsset:
    """Narrate the scene's line (or reuse the stored narration) and return where it is and its timings."""
    key = voice_key(scene, provider, speaker)
    meta_key = key.removesuffix(".wav") + ".json"
    store = storage()
    if store.exists(key) and store.exists(meta_key):
        return VoiceAsset.model_validate_json(store.get_bytes(meta_key))
    inject_fault("speak")
    with vendor_slot(registry.voice_renderer_for(provider)):
        speech = registry.synthesize(provider, scene.text, speaker)
    asset = VoiceAsset(
        wav=key,
        words=[TimedWord(text=w.text, start=w.start, end=w.end) for w in speech.words],
        duration=speech.duration,
        rendered_by=speech.rendered_by,
    )
    store.put_bytes(meta_key, json.dumps(asset.model_dump()).encode())
    store.put_bytes(key, speech.wav)
    return asset
