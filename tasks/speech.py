"""The narration for each scene, stored as WAV with its word timings beside it."""

from __future__ import annotations

import json

from prefect import get_run_logger, task

from core.results import SceneSpec, TimedWord, VoiceAsset
from core.storage import content_key
from media.captions import Word
from media.speech_fit import apply_fit, plan_fit
from providers import registry
from providers.base import Speech
from tasks.common import RENDERER_VERSION, asset_cache, storage, stored, vendor_slot, workdir
from tasks.narration import level_ahead


def voice_key(scene: SceneSpec, provider: str, speaker: str, max_seconds: float | None = None,
              fps: int | None = None) -> str:
    """The narration's storage key (``fps`` only says whether ``speak`` levels ahead: not part of the key)."""
    return content_key("voice", "wav", provider=provider, speaker=speaker, text=scene.text, renderer=RENDERER_VERSION,
                       backend=registry.voice_renderer_for(provider),
                       **({"max_seconds": max_seconds} if max_seconds is not None else {}),
                       **({"reroll": scene.voice_seed} if scene.voice_seed else {}))  # unset: keys stay put


def _fit(speech: Speech, max_seconds: float) -> tuple[bytes, list[Word], float]:
    """A narration longer than its planned scene, sped up (and only if need be, shortened between two words)."""
    fit = plan_fit(speech.words, speech.duration, max_seconds)
    get_run_logger().warning("narration of %.2f s fitted into %.2f s (x%.2f, %d of %d words)", speech.duration,
                             max_seconds, fit.tempo, len(fit.words), len(speech.words))
    with workdir() as tmp:
        (tmp / "voice.wav").write_bytes(speech.wav)
        return apply_fit(tmp / "voice.wav", tmp / "fitted.wav", fit).read_bytes(), list(fit.words), fit.duration


@task(name="speak", task_run_name="voice-{scene.index}", cache_key_fn=asset_cache(voice_key))
def speak(scene: SceneSpec, provider: str, speaker: str, max_seconds: float | None = None,
          fps: int | None = None) -> VoiceAsset:
    """Narrate the scene's line (or reuse the stored narration) and return where it is and its timings.

    ``max_seconds`` (movies, whose scene lengths are fixed) is the longest the narration may last; see ``_fit``.
    ``fps`` (the job's frame rate) fixes the scene's length, so the narration is also levelled into its piece of
    the job's track here (``tasks.narration.level_ahead``).
    """
    key = voice_key(scene, provider, speaker, max_seconds)
    meta_key = key.removesuffix(".wav") + ".json"

    def narrate(_: object) -> bytes:
        with vendor_slot(registry.voice_renderer_for(provider)):
            speech = registry.synthesize(provider, scene.text, speaker)
        wav, words, duration = speech.wav, speech.words, speech.duration
        if max_seconds is not None and duration > max_seconds:
            wav, words, duration = _fit(speech, max_seconds)
        storage().put_bytes(key, wav)
        asset = VoiceAsset(wav=key, words=[TimedWord(text=w.text, start=w.start, end=w.end) for w in words],
                           duration=duration, rendered_by=speech.rendered_by)
        return json.dumps(asset.model_dump()).encode()

    stored(meta_key, narrate, task="speak", text=scene.text, beside=(key,))
    voice = VoiceAsset.model_validate_json(storage().get_bytes(meta_key))
    if fps is not None:
        level_ahead(scene, voice, fps)
    return voice
