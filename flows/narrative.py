"""The narrative flow: lines → scenes → stills + narration (+ clips) → scene videos → one MP4, captions, poster."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from core.contract import NarrativeRequest
from core.errors import JobFailed, ReelflowError
from core.results import SceneSpec, VideoResult, VoiceAsset
from core.settings import get_settings
from flows.progress import Progress
from flows.records import current_request_id, job_run_name
from flows.webhooks import on_terminal
from tasks.assembly import assemble, publish
from tasks.common import configured, storage
from tasks.images import make_image
from tasks.planning import plan_scenes
from tasks.speech import speak
from tasks.video import RenderedScene, animate, render_scene

# Relative cost of each stage, for a progress figure that moves with the work actually done.
WEIGHTS = {"image_generation": 25.0, "speech_generation": 15.0, "ai_video_generation": 20.0,
           "frame_generation": 30.0, "video_generation": 10.0}


def run_name() -> str:
    return job_run_name("narrative")


def job_id() -> str:
    """The request id this job publishes its files under (the intake's; the run's own id for a direct run)."""
    return current_request_id() or str(flow_run.get_id() or "local")


def fail(progress: Progress, stage: str, scene: int | None, exc: BaseException) -> JobFailed:
    """Record the failure where status reads it and build the error the flow fails with."""
    reason = str(exc) if isinstance(exc, ReelflowError) else f"{type(exc).__name__}: {exc}"
    where = f" for scene {scene}" if scene is not None else ""
    message = f"{stage} failed{where}: {reason}"
    progress.fail(stage, message)
    return JobFailed(message)


def wait_all(progress: Progress, futures: dict[PrefectFuture[Any], tuple[str, int]]) -> None:
    """Advance progress as tasks finish; stop at the first failure with a message naming stage and scene."""
    for future in as_completed(list(futures)):
        stage, index = futures[future]
        try:
            future.result()
        except Exception as exc:
            raise fail(progress, stage, index, exc) from exc
        progress.step(stage)


def storyboard(plan: list[SceneSpec], result: VideoResult) -> str:
    root = storage().url
    rows = [f"| {s.index} | {p.text} | {s.duration:.2f} s | `{root}/{s.image}` | `{root}/{s.clip}` |"
            for p, s in zip(plan, result.scenes, strict=True)]
    return "\n".join([
        f"# Storyboard ({len(plan)} scenes, {result.duration:.2f} s, {result.width}×{result.height})",
        f"Video: `{root}/{result.video}`", "",
        "| scene | line | duration | still | clip |", "|---|---|---|---|---|", *rows,
    ])


@flow(name="narrative", flow_run_name=run_name, task_runner=ThreadPoolTaskRunner(max_workers=4),
      on_completion=[on_terminal], on_failure=[on_terminal], on_cancellation=[on_terminal])
def narrative(request: NarrativeRequest) -> VideoResult:
    """Render a narrated video from the request's lines, resuming from every asset that already exists."""
    logger = get_run_logger()
    settings = get_settings()
    spec = request.input
    width, height = settings.frame_size(spec.aspect_ratio)
    fps, voice = settings.fps, spec.voice
    generative = spec.add_generative_video and spec.video_model is not None
    plan = plan_scenes(spec)
    n = len(plan)
    progress = Progress({
        "image_generation": (WEIGHTS["image_generation"], n),
        "speech_generation": (WEIGHTS["speech_generation"], n),
        "ai_video_generation": (WEIGHTS["ai_video_generation"], n if generative else 0),
        "frame_generation": (WEIGHTS["frame_generation"], n),
        "video_generation": (WEIGHTS["video_generation"], 2),
    }, webhook_url=request.webhookUrl)
    progress.start()
    logger.info("%d scenes at %dx%d, voice %s/%s", n, width, height, voice.provider, voice.speaker)

    # Scene-major submission: scene 1's render can start as soon as its narration is done, while later scenes
    # are still being drawn and narrated (the thread pool runs tasks in submission order).
    pending: dict[PrefectFuture[Any], tuple[str, int]] = {}
    images: list[PrefectFuture[str]] = []
    voices: list[PrefectFuture[VoiceAsset]] = []
    videos: list[PrefectFuture[str] | None] = []
    scenes: list[PrefectFuture[RenderedScene]] = []
    for s in plan:
        images.append(configured(make_image).submit(s, spec.image_model or "", width, height, spec.aspect_ratio))
        voices.append(configured(speak).submit(s, voice.provider, voice.speaker))
        videos.append(configured(animate).submit(s, images[-1], voices[-1], spec.video_model or "", width, height,
                                                 fps) if generative else None)
        scenes.append(configured(render_scene).submit(s, images[-1], voices[-1], videos[-1], width, height, fps))
    for stage, futures in (("image_generation", images), ("speech_generation", voices),
                           ("ai_video_generation", videos), ("frame_generation", scenes)):
        pending.update({f: (stage, s.index) for f, s in zip(futures, plan, strict=True) if f is not None})
        progress.begin(stage)
    wait_all(progress, pending)

    rendered = [f.result() for f in scenes]
    narration = [f.result() for f in voices]
    try:
        assembled = configured(assemble)(rendered, narration)
        progress.step("video_generation")
        result = configured(publish)(
            job_id(), assembled, plan, [f.result() for f in images], rendered, narration,
            [f.result() if f else None for f in videos], spec.aspect_ratio,
        )
    except Exception as exc:
        raise fail(progress, "video_generation", None, exc) from exc
    progress.finish()
    create_markdown_artifact(storyboard(plan, result), key=f"storyboard-{job_id()[:8]}", description="Storyboard")
    logger.info("video ready: %s (%.2f s, %d bytes)", result.video, result.duration, result.size_bytes)
    return result
