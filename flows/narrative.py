"""The narrative flow: lines → scenes → stills + narration (+ clips) → scene videos → one MP4, captions, poster."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from core.contract import NarrativeRequest
from core.edits import EditPlan
from core.results import VideoResult
from core.settings import get_settings
from flows.artifacts import on_failed, publish_completed
from flows.common import Frame, finish, job_id, run_scenes, submit_scenes
from flows.progress import Progress
from flows.records import job_run_name
from flows.ui import attach_module_logs
from flows.webhooks import on_terminal
from tasks.planning import plan_scenes

# Relative cost of each stage, for a progress figure that moves with the work actually done.
WEIGHTS = {"image_generation": 25.0, "speech_generation": 15.0, "ai_video_generation": 20.0,
           "frame_generation": 30.0, "video_generation": 10.0}


def run_name() -> str:
    return job_run_name("narrative")


@flow(name="narrative", task_runner=ThreadPoolTaskRunner(max_workers=4),
      result_serializer="json",
      on_completion=[on_terminal], on_failure=[on_terminal, on_failed], on_cancellation=[on_terminal])
def narrative(request: NarrativeRequest, edit: EditPlan | None = None) -> VideoResult:
    """Render a narrated video from the request's lines, resuming from every asset that already exists.

    ``edit`` (from ``/edit``): per-scene overrides; everything unchanged comes from the cache.
    """
    attach_module_logs()
    logger = get_run_logger()
    settings = get_settings()
    spec = request.input
    width, height = settings.frame_size(spec.aspect_ratio)
    fps, voice = settings.fps, spec.voice
    generative = spec.add_generative_video and spec.video_model is not None
    plan = plan_scenes(spec, edit)
    n = len(plan)
    progress = Progress({
        "image_generation": (WEIGHTS["image_generation"], n),
        "speech_generation": (WEIGHTS["speech_generation"], n),
        "ai_video_generation": (WEIGHTS["ai_video_generation"], sum(generative or bool(s.video_url) for s in plan)),
        "frame_generation": (WEIGHTS["frame_generation"], n),
        "video_generation": (WEIGHTS["video_generation"], 2),
    }, webhook_url=request.webhookUrl, run_name=run_name())
    progress.start()
    logger.info("%d scenes at %dx%d, voice %s/%s", n, width, height, voice.provider, voice.speaker)

    frame = Frame(spec.image_model or "", spec.video_model if generative else None, width, height, fps,
                  spec.aspect_ratio, captions=spec.captions)
    work = submit_scenes(plan, frame, lambda s: (voice.provider, voice.speaker, None), spec.music,
                         "\n".join(spec.prompt_list))
    run_scenes(progress, work)
    result = finish(progress, work, spec.aspect_ratio, edit)
    progress.finish(meanwhile=lambda: publish_completed(job_id(), result))
    logger.info("video ready: %s (%.2f s, %d bytes)", result.video, result.duration, result.size_bytes)
    return result
