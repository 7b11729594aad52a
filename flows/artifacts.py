"""The artifacts a job leaves on its run in the Prefect UI: what it made, or why it failed and what to try.

On completion: a table of the scenes (line, length, who rendered it, links to the still and the clip) and a
markdown card with the poster and links to the video and its captions. Links are signed for
``REELFLOW_UI_LINK_TTL`` (a year by default; S3 presigned links at most 7 days), so they keep working long after
``/status``'s shorter-lived links and for as long as anyone looks at the run page. On failure (the flows'
``on_failure`` hook): a markdown card naming the stage, the scene, the reason and what to try next.

Artifact keys carry the request id prefix (``video-1a2b3c4d``, ``scenes-…``, ``failure-…``) so the UI's
Artifacts page groups them per job; the titles (:data:`VIDEO_TITLE` ...) are what a person scans for.
"""

from __future__ import annotations

import contextvars
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import Flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.objects import FlowRun, State

from core.jobstate import FAILED_STAGE, MESSAGE, STAGE, JobLabels
from core.links import link
from core.results import VideoResult
from core.settings import get_settings

log = logging.getLogger(__name__)
VIDEO_TITLE = "Video and poster"
SCENES_TITLE = "Scenes with links"
FAILURE_TITLE = "Why this job failed"
_SCENE = re.compile(r" for scene (\d+):")

#: What to try, first by words in the reason (the vendor's own words), then by the stage that failed.
_BY_REASON = (
    (("429", "rate limit", "quota", "timed out", "timeout", "temporarily", "503", "502", "overloaded"),
     "The vendor was busy or slow. Submit the same request again: every finished asset is reused."),
    (("401", "403", "api key", "credential", "unauthorized", "permission"),
     "Check the vendor credential on the server (`reelflow doctor` names the variable), or set "
     "REELFLOW_LOCAL_FALLBACK=true to render that part locally."),
    (("content policy", "safety", "moderation", "flagged"),
     "The vendor refused the prompt: reword the scene's line and submit again."),
    (("no space", "disk"), "Free disk space on the worker (or point REELFLOW_STORAGE_URL at S3), then resubmit."),
)
_BY_STAGE = {
    "prompt_generation": "Shorten or reword the prompt, or submit again; a script writer may refuse or time out.",
    "image_generation": "Try another image_model, or reword the scene's line; resubmitting reuses finished scenes.",
    "speech_generation": "Try another speaker or voice provider; resubmitting reuses finished scenes.",
    "ai_video_generation": "Try another video_model, or set add_generative_video to false for a still-based video.",
    "frame_generation": "A scene could not be rendered: see this run's logs for ffmpeg's last lines, then resubmit.",
    "video_generation": "The scenes could not be joined: see this run's logs for ffmpeg's last lines, then resubmit.",
}


def _links(key: str | None) -> str:
    return link(key, ttl=get_settings().ui_link_ttl) if key else ""


def scene_rows(result: VideoResult) -> list[dict[str, Any]]:
    """One row per scene for the table artifact."""
    return [{"scene": s.index, "line": s.text, "seconds": round(s.duration, 2),
             "rendered_by": ", ".join(f"{kind}: {who}" for kind, who in sorted(s.rendered_by.items())),
             "still": _links(s.image), "clip": _links(s.clip), "ai_clip": _links(s.video)}
            for s in result.scenes]


def video_markdown(request_id: str, result: VideoResult, note: str = "") -> str:
    """The card with the poster and the links (the poster is an image the UI shows inline)."""
    video = _links(result.video)
    lines = [
        f"# {VIDEO_TITLE}", "",
        f"[![poster of {request_id[:8]}]({_links(result.poster)})]({video})", "",
        f"**[Download the video]({video})** · captions: [SRT]({_links(result.srt)}) · [VTT]({_links(result.vtt)})",
        "",
        f"{len(result.scenes)} scenes · {result.duration:.2f} s · {result.width}×{result.height} "
        f"({result.aspect_ratio}) · {result.size_bytes / 1e6:.1f} MB · rendered by {result.rendered_by}",
        f"Request `{request_id}`",
    ]
    return "\n".join(lines + ([f"\n{note}"] if note else []))


def publish_completed(request_id: str, result: VideoResult, note: str = "") -> None:
    """Leave the scene table and the video card on the run (inside the flow, after ``publish``).

    The two are created at once, the table from a thread in the run's context (so it is attached to this run and
    sent with its API client): each is a round trip to the API, on the path between the last render and the job's
    COMPLETED state.
    """
    short = request_id[:8]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reelflow-artifacts") as pool:
        table = pool.submit(contextvars.copy_context().run, create_table_artifact, scene_rows(result),
                            key=f"scenes-{short}", description=SCENES_TITLE)
        create_markdown_artifact(video_markdown(request_id, result, note), key=f"video-{short}",
                                 description=VIDEO_TITLE)
        table.result()


def advice(stage: str, reason: str) -> str:
    """What to try next: from the reason's words when they say something, else from the stage."""
    lowered = reason.lower()
    for words, hint in _BY_REASON:
        if any(word in lowered for word in words):
            return hint
    return _BY_STAGE.get(stage, "See this run's logs; resubmit the request: every finished asset is reused.")


def failure_markdown(run: FlowRun, state: State[Any]) -> str:
    """Stage, scene, reason and advice from what the flow recorded (labels), else from the failed state."""
    labels = run.labels or {}
    stage = str(labels.get(FAILED_STAGE) or labels.get(STAGE) or "") or "unknown"
    message = str(labels.get(MESSAGE) or state.message or "the job failed")
    message = message.removeprefix("Flow run encountered an exception: ").strip()
    found = _SCENE.search(message)
    scene = found.group(1) if found else "-"
    reason = message.split(": ", 1)[1] if found or message.startswith(f"{stage} failed") else message
    rows = [("Stage", f"`{stage}`"), ("Scene", scene), ("Reason", reason), ("What to try", advice(stage, reason))]
    table = [f"| {name} | {value.replace('|', '/').replace(chr(10), ' ')} |" for name, value in rows]
    return "\n".join([f"# {FAILURE_TITLE}", "", "| | |", "|---|---|", *table, "", f"Request `{request_of(run)}`"])


def request_of(run: FlowRun) -> str:
    """The request id of a job's run: the intake's (a label), else the run's own id (a direct run)."""
    return JobLabels.of(run.labels).request_id or str(run.id)


def on_failed(flow_: Flow[Any, Any], run: FlowRun, state: State[Any]) -> None:
    """``on_failure`` hook: the failure card, attached to the run by id (hooks may run outside its context)."""
    try:
        with get_client(sync_client=True) as client:
            fresh = client.read_flow_run(run.id)  # the labels the flow wrote just before failing
            client.create_artifact(ArtifactCreate(
                key=f"failure-{request_of(fresh)[:8]}", type="markdown", description=FAILURE_TITLE,
                data=failure_markdown(fresh, state), flow_run_id=run.id))
    except Exception as exc:  # the run has already failed; never turn that into a hook error
        log.warning("could not leave the failure artifact on %s: %s", run.id, exc)
