"""What the narrative and movie flows share: failure messages, waiting on scene tasks, the per-scene submit loop,
assembly and publishing (the run's artifacts are ``flows.artifacts``'s).

Both flows render scenes the same way (a still, its narration, an optional clip, the scene video), so the loop that
submits those tasks lives here once; a flow only decides what each scene is (its plan) and how it is narrated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prefect.client.schemas.objects import State
from prefect.futures import PrefectConcurrentFuture, PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.states import Pending

from core.edits import EditPlan
from core.errors import JobFailed, ReelflowError
from core.results import SceneSpec, VideoResult, VoiceAsset
from core.styles import DEFAULT_CAPTIONS, CaptionOptions, MusicOptions
from flows.progress import Progress
from flows.records import current_request_id
from tasks.assembly import assemble, publish
from tasks.caller_media import clip, still
from tasks.common import configured
from tasks.music import music_seed
from tasks.narration import MusicFailed, NarrationTrack, narrate_track
from tasks.speech import speak
from tasks.video import RenderedScene, local_motion, render_scene

#: The scene stages in the order the submit loop registers them (progress moves through them in this order).
SCENE_STAGES = ("image_generation", "speech_generation", "ai_video_generation", "frame_generation")


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


def wait_all(
    progress: Progress, futures: dict[PrefectFuture[Any], tuple[str, int]], also: dict[str, str] | None = None
) -> None:
    """Advance progress as tasks finish; stop at the first failure with a message naming stage and scene.

    ``also`` maps a stage to one its tasks complete as well (a scene render that made the motion clip itself).
    """
    for future in as_completed(list(futures)):
        stage, index = futures[future]
        try:
            future.result()
        except Exception as exc:
            raise fail(progress, stage, index, exc) from exc
        progress.step(stage)
        if also and stage in also:
            progress.step(also[stage])


F = TypeVar("F", bound="PrefectFuture[Any] | None")
R = TypeVar("R")


class _LocalStateFuture(PrefectConcurrentFuture[R]):
    """A future of a task run in this flow's thread pool that answers ``state`` from this process.

    A task submitted with futures among its parameters asks each one for its state as it starts (Prefect's parent
    inference, ``prefect.tasks._infer_parent_task_runs``, looking for a *running* upstream to record as a parent
    of nested tasks), and Prefect's own future answers with a read of the task run from the API unless it was
    waited on: two reads per scene render, measured at 60 % of the task threads' time in an identical 6-scene
    rerun, and work for the Prefect server that shares the CPU with ffmpeg. Here the answer comes from the thread
    pool: the final state once the task has finished, else Pending, so an upstream is never taken for a parent (it
    is an input, which Prefect records from the parameter itself).
    """

    @property
    def state(self) -> State[R]:
        if self._final_state is None and self.wrapped_future.done():
            try:
                self.wait(0)
            except Exception:  # the thread itself failed (not the task): let Prefect ask the API, as before
                return super().state
        return self._final_state or Pending()


def settled(future: F) -> F:
    """``future`` as a :class:`_LocalStateFuture` when it runs in this flow's thread pool (else unchanged)."""
    if isinstance(future, PrefectConcurrentFuture):
        return _LocalStateFuture(future.task_run_id, future.wrapped_future)  # type: ignore[return-value]
    return future


@dataclass
class SceneWork:
    """The futures of every scene's tasks, in plan order (``None`` where a scene has no such task)."""

    plan: list[SceneSpec]
    images: list[PrefectFuture[str]] = field(default_factory=list)
    voices: list[PrefectFuture[VoiceAsset] | None] = field(default_factory=list)
    videos: list[PrefectFuture[str] | None] = field(default_factory=list)
    scenes: list[PrefectFuture[RenderedScene]] = field(default_factory=list)
    #: The narration track (and music bed), built while the scenes render; None for a silent job without music.
    track: PrefectFuture[NarrationTrack] | None = None
    #: True when the scene render makes the motion clip itself (a locally rendered video model).
    local_clips: bool = False

    def pending(self) -> dict[PrefectFuture[Any], tuple[str, int]]:
        """Every future with the stage and scene a failure of it is reported under."""
        pending: dict[PrefectFuture[Any], tuple[str, int]] = {}
        for stage, futures in zip(SCENE_STAGES, (self.images, self.voices, self.videos, self.scenes), strict=True):
            pending.update({f: (stage, s.index) for f, s in zip(futures, self.plan, strict=True) if f is not None})
        return pending


@dataclass(frozen=True)
class Frame:
    """Output geometry and models shared by every scene of a job."""

    image_model: str
    video_model: str | None
    width: int
    height: int
    fps: int
    aspect_ratio: str
    fade: float = 0.0
    captions: CaptionOptions = DEFAULT_CAPTIONS


def submit_scenes(
    plan: list[SceneSpec], frame: Frame, narrate: Callable[[SceneSpec], tuple[str, str, float | None] | None],
    music: MusicOptions | None = None, words: str = "",
) -> SceneWork:
    """Submit every scene's tasks scene-major: scene 1's render can start as soon as its inputs are done, while
    later scenes are still being drawn and narrated (the thread pool runs tasks in submission order).

    ``narrate(scene)`` gives (voice provider, speaker, longest narration in seconds or None), or None for a silent
    scene. A clip of planned length (movies) needs only its still; otherwise its length follows the narration.
    When the video model renders locally the scene render makes the motion itself, in the same encode as the
    captions, so no ``animate`` task is submitted. A caller's ``image_url`` / ``video_url`` (``tasks.caller_media``)
    replaces the generated still or clip.

    Last comes the job's narration track: the voices fix every scene's length, so the track (and the ``music`` bed,
    seeded by the request's ``words``: the same request gets the same music) is made while the scenes render.
    """
    work = SceneWork(plan, local_clips=local_motion(frame.video_model))
    w, h, fps = frame.width, frame.height, frame.fps
    for s in plan:
        image = settled(still(s, frame.image_model, w, h, frame.aspect_ratio))
        voicing = narrate(s)
        voice = settled(configured(speak).submit(s, *voicing, fps=fps)) if voicing else None
        generated = bool(frame.video_model) and not work.local_clips
        video = settled(clip(s, image, voice if s.clip_length is None else None, frame.video_model or "", w, h, fps,
                             generated))
        work.images.append(image)
        work.voices.append(voice)
        work.videos.append(video)
        work.scenes.append(configured(render_scene).submit(s, image, voice, video, w, h, fps, frame.fade,
                                                           captions=frame.captions))
    bed = music if music is not None and music.enabled else None
    if bed is not None or any(v is not None for v in work.voices):
        work.track = configured(narrate_track).submit(plan, work.voices, fps, bed, music_seed(words))
    return work


def run_scenes(progress: Progress, work: SceneWork, silent_done: bool = False) -> None:
    """Wait for every scene task, moving progress through the scene stages; the first failure fails the job.

    ``silent_done``: a scene with nothing to narrate counts as narrated (its speech is done without a task).
    """
    for stage in SCENE_STAGES:
        progress.begin(stage)
    for _ in range(sum(v is None for v in work.voices) if silent_done else 0):
        progress.step("speech_generation")
    wait_all(progress, work.pending(), {"frame_generation": "ai_video_generation"} if work.local_clips else None)


def finish(progress: Progress, work: SceneWork, aspect_ratio: str, edit: EditPlan | None = None) -> VideoResult:
    """Assemble the rendered scenes with the narration track and publish the job's files; a failure fails the
    "video_generation" stage (the music bed's: "music failed: ...").

    ``edit``: the plan of an ``/edit`` job, so the result can say which scenes were reused."""
    rendered = [f.result() for f in work.scenes]
    narration = [f.result() if f else None for f in work.voices]
    videos = [f.result() if f else (r.clip if work.local_clips else None) for f, r in zip(work.videos, rendered,
                                                                                         strict=True)]
    try:
        track = work.track.result() if work.track else None
        assembled = configured(assemble)(rendered, narration, track.music if track else None)
        progress.step("video_generation")
        result = publish(job_id(), assembled, work.plan, [f.result() for f in work.images], rendered, narration,
                         videos, aspect_ratio, edit)
    except MusicFailed as exc:
        raise fail(progress, "music", None, exc) from exc
    except Exception as exc:
        raise fail(progress, "video_generation", None, exc) from exc
    return result
