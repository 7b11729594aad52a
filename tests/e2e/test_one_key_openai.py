"""One vendor key is enough: an OpenAI-only server (``OPENAI_API_KEY``) with ``REELFLOW_LOCAL_FALLBACK=true``.

On the real stack over HTTP, the openai SDK pointed at an in-process fake: a GPTIMAGE2 narrative completes on
OpenAI alone, and a 12 s KLINGIMGTOVIDPRO movie completes with local motion, its ``rendered_by`` and ``/status``
message saying so. (Without the fallback the same movie is a 400: tests/unit/adapter/test_one_key_routes.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import start_stack
from tests.e2e.test_one_key_google import BASE_ENV, PROMPT, _client, check_twelve_seconds, run
from tests.e2e.test_vendor_stack import _reset
from tests.fakes import openai_fake
from tests.fakes.openai_fake import OpenAIFake

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def openai() -> Iterator[OpenAIFake]:
    fake = OpenAIFake().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def openai_api(tmp_path_factory: pytest.TempPathFactory, openai: OpenAIFake) -> Iterator[httpx.Client]:
    env = {**BASE_ENV, "OPENAI_API_KEY": openai_fake.KEY, "OPENAI_BASE_URL": openai.base_url,
           "REELFLOW_LOCAL_FALLBACK": "true"}
    with start_stack(tmp_path_factory.mktemp("openai-only"), env) as stack, _client(stack) as client:
        yield client


def test_openai_only_gptimage2_narrative(openai: OpenAIFake, openai_api: httpx.Client) -> None:
    _reset(openai)
    body = run(openai_api, "create_narrative", {"input": {"prompt_list": ["A fox in the snow.", "It listens."],
                                                          "image_model": "GPTIMAGE2"}})
    assert body["status"] == "COMPLETED", body
    assert body["result"]["renderers"] == {"image": "openai", "voice": "openai"}
    assert body["message"] == "All done!"
    assert openai.problems == []


def test_openai_only_movie_with_local_fallback_says_what_was_local(
    openai: OpenAIFake, openai_api: httpx.Client, tmp_path: Path
) -> None:
    _reset(openai)
    openai.script = None  # a script that follows the requested scene list
    models = {row["key"]: row for row in openai_api.get("/v1/video/models").json()["models"]}
    assert models["KLINGIMGTOVIDPRO"]["local_fallback"] is True
    body = run(openai_api, "create_movie", {"input": {"prompt": PROMPT, "image_model": "GPTIMAGE2",
                                                      "video_model": "KLINGIMGTOVIDPRO", "duration": 12}})
    assert body["status"] == "COMPLETED", body
    check_twelve_seconds(body["result"], tmp_path)
    assert body["result"]["renderers"] == {"image": "openai", "voice": "openai", "video": "local"}
    assert {s["rendered_by"]["video"] for s in body["result"]["scenes"]} == {"local"}
    assert body["message"] == "All done! Rendered locally: video."
    assert openai.problems == []
