"""The movie flow: one prompt → clip plan → script → per scene a still, narration and an image-to-video clip →
scene videos → one MP4 of exactly the requested duration, with captions and a poster.

The clip plan comes first (``media.clip_plan``): the requested duration split into the video model's clip lengths,
the last clip trimmed to land on the duration to the frame. Everything after it works to those fixed lengths: the
script writer writes narration that fits each scene, ``speak`` makes sure the voice does, ``animate`` asks for the
planned clip length and ``render_scene`` shows exactly the planned seconds, so the joined file needs no trimming.
Assets stream through storage one scene at a time (the flow holds keys, never frames), so memory does not grow with
the length of the movie.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from core import catalog
from core.contract import MovieRequest
from core.edits import EditPlan
from core.errors import JobFailed, ReelflowError
from core.results import SceneSpec, VideoResult
from core.script import MovieScript
from core.settings import get_settings
from flows.artifacts import on_failed, publish_completed
from flows.common import Frame, finish, job_id, run_scenes, submit_scenes
from flows.progress import Progress
from flows.records import job_run_name
from flows.ui import attach_module_logs
from flows.webhooks import on_terminal
from media.clip_plan import ClipPlan, plan_clips
from media.timing import NARRATION_TAIL_S
from tasks.common import configured
from tasks.planning import scene_seed, with_overrides
from tasks.script import write_script

# Relative cost of each stage, for a progress figure that moves with the work actually done.
WEIGHTS = {"prompt_generation": 5.0, "image_generation": 15.0, "speech_generation": 10.0,
           "ai_video_generation": 30.0, "frame_generation": 30.0, "video_generation": 10.0}
#: Seconds of each fade through black at a cut when ``transition`` is ``fade``.
FADE_S = 0.25


def run_name() -> str:
    return job_run_name("movie")


def scene_specs(script: MovieScript, plan: ClipPlan) -> list[SceneSpec]:
    """One scene per planned clip: the style sheet before every visual, the narration as the scene's text."""
    prefix = script.style.prefix()
    return [
        SceneSpec(index=index, text=scene.narration, image_prompt=prefix + scene.visual,
                  seed=scene_seed(scene.visual, index), clip_length=clip, duration=shown)
        for index, (scene, clip, shown) in enumerate(zip(script.scenes, plan.clips, plan.shown, strict=True), 1)
    ]


def _script(progress: Progress, request: MovieRequest, plan: ClipPlan) -> MovieScript:
    """Write the script; when the writer gives up, fail with "script generation failed: <reason>"."""
    progress.begin("prompt_generation")
    try:
        script: MovieScript = configured(write_script)(request.input, list(plan.shown))
    except Exception as exc:
        reason = str(exc) if isinstance(exc, ReelflowError) else f"{type(exc).__name__}: {exc}"
        message = f"script generation failed: {reason}"
        progress.fail("prompt_generation", message)
        raise JobFailed(message) from exc
    progress.step("prompt_generation")
    return script


@flow(name="movie", task_runner=ThreadPoolTaskRunner(max_workers=4),
      result_serializer="json",
      on_completion=[on_terminal], on_failure=[on_terminal, on_failed], on_cancellation=[on_terminal])
def movie(request: MovieRequest, edit: EditPlan | None = None) -> VideoResult:
    """Render a narrated movie of exactly ``duration`` seconds from one prompt, resuming from every finished asset.

    ``edit`` (from ``/edit``): per-scene overrides; everything unchanged comes from the cache.
    """
    attach_module_logs()
    logger = get_run_logger()
    settings = get_settings()
    spec = request.input
    width, height = settings.frame_size(spec.aspect_ratio)
    fps, voice = settings.fps, spec.voice
    entry = catalog.find_model(spec.video_model or "")
    plan = plan_clips(spec.duration, entry.clip_lengths if entry else (), fps)
    n = len(plan.clips)
    progress = Progress({
        "prompt_generation": (WEIGHTS["prompt_generation"], 1),
        "image_generation": (WEIGHTS["image_generation"], n),
        "speech_generation": (WEIGHTS["speech_generation"], n if spec.narration else 0),
        "ai_video_generation": (WEIGHTS["ai_video_generation"], n),
        "frame_generation": (WEIGHTS["frame_generation"], n),
        "video_generation": (WEIGHTS["video_generation"], 2),
    }, webhook_url=request.webhookUrl, run_name=run_name())
    progress.start()
    logger.info("%.2f s as %d clips %s at %dx%d", plan.total, n, list(plan.clips), width, height)
    script = _script(progress, request, plan)
    plan_specs = with_overrides(scene_specs(script, plan), None, edit)

    frame = Frame(spec.image_model or "", spec.video_model or "", width, height, fps, spec.aspect_ratio,
                  FADE_S if spec.transition == "fade" else 0.0, captions=spec.captions)

    def narrate(s: SceneSpec) -> tuple[str, str, float | None] | None:
        """The voice and the longest it may speak (the planned scene minus a breath), None for a silent scene."""
        if not (spec.narration and s.text):
            return None
        return voice.provider, voice.speaker, (s.duration or 0) - NARRATION_TAIL_S

    work = submit_scenes(plan_specs, frame, narrate, spec.music, spec.prompt)
    run_scenes(progress, work, silent_done=spec.narration)
    result = finish(progress, work, spec.aspect_ratio, edit)
    note = f"Style: {script.style.prefix()}(script by {script.written_by})"
    progress.finish(meanwhile=lambda: publish_completed(job_id(), result, note=note))
    logger.info("movie ready: %s (%.2f s, %d bytes)", result.video, result.duration, result.size_bytes)
    return result
