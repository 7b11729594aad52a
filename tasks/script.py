"""The movie's script, written once per (writer, prompt, planned durations) and kept in storage.

A chat model writes a different script every time, so the script is an asset like a still: stored under its content
key and returned from there by a rerun, which is what lets a failed movie resume with the same scenes (and so find
its images, narration and clips in the cache). Retries follow the task rule: a malformed or truncated answer is a
``RetryableProviderError`` and is asked again, up to ``REELFLOW_TASK_RETRIES`` times; a refusal is fatal at once.
"""

from __future__ import annotations

from prefect import task

from core.contract import MovieInput
from core.script import MovieScript
from core.storage import content_key
from providers.script_writer import write_movie_script, writer_name
from tasks.common import RENDERER_VERSION, asset_cache, storage, stored


def script_key(request: MovieInput, durations: list[float]) -> str:
    return content_key(
        "script", "json", writer=writer_name(), prompt=request.prompt, durations=durations,
        narration=request.narration, renderer=RENDERER_VERSION,
    )


@task(name="write-script", task_run_name="script", cache_key_fn=asset_cache(script_key))
def write_script(request: MovieInput, durations: list[float]) -> MovieScript:
    """Write (or find) the script: a style sheet and one scene per planned on-screen duration."""
    key = script_key(request, durations)

    def write(_: object) -> bytes:
        return write_movie_script(request.prompt, durations, request.narration).model_dump_json().encode()

    return MovieScript.model_validate_json(storage().get_bytes(stored(key, write, task="write-script",
                                                                      text=request.prompt)))
