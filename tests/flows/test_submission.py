"""How the flows hand work to Prefect cheaply: configured tasks made once, futures that answer their state from the
thread pool, and each narration levelled into its piece of the track as soon as it is spoken."""

from __future__ import annotations

import threading

from prefect import flow, task
from prefect.futures import PrefectConcurrentFuture
from prefect.task_runners import ThreadPoolTaskRunner

from core.results import SceneSpec
from flows.common import settled
from tasks.common import configured, storage
from tasks.images import make_image
from tasks.narration import levelled_key
from tasks.speech import speak
from tasks.video import scene_seconds

GATE = threading.Event()


@task
def held() -> int:
    """Finishes once the test opens the gate."""
    GATE.wait(30)
    return 7


@flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
def watch_one() -> tuple[str, str, int, bool]:
    GATE.clear()
    future = settled(held.submit())
    assert isinstance(future, PrefectConcurrentFuture)
    while_running = future.state.name  # from the pool, not the API (which would say Running, or not know it yet)
    GATE.set()
    value = future.result()
    return while_running, future.state.name, value, future.state is future.state


def test_a_settled_future_answers_from_the_pool_pending_then_its_final_state() -> None:
    while_running, finished, value, same = watch_one()
    assert (while_running, finished, value) == ("Pending", "Completed", 7)
    assert same, "once finished, the state is kept, not read again"


def test_settled_leaves_what_is_not_a_pool_future_alone() -> None:
    assert settled(None) is None


def test_a_configured_task_is_made_once_per_setting() -> None:
    assert configured(make_image) is configured(make_image)
    assert configured(make_image) is not configured(speak)
    assert configured(make_image).retries == configured(speak).retries


def test_speaking_with_the_frame_rate_levels_the_narration_into_its_piece() -> None:
    ahead = SceneSpec(index=1, text="The tide comes in over the sand.", image_prompt="tide", seed=1)
    voice = speak.fn(ahead, "OPENAI", "alloy", None, fps=30)
    assert storage().exists(levelled_key(voice, scene_seconds(ahead, voice, 30)))

    plain = SceneSpec(index=2, text="Gulls circle above the pier.", image_prompt="gulls", seed=2)
    voice = speak.fn(plain, "OPENAI", "alloy")
    assert not storage().exists(levelled_key(voice, scene_seconds(plain, voice, 30))), "no frame rate: not levelled"
