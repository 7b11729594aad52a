"""The service commands of the CLI when the service is down, old, or no key is known: one line, exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.stack import REPO
from tests.unit.adapter.conftest import closed_port
from tests.unit.adapter.scripted_api import scripted_api

BODY = {"input": {"prompt_list": ["A lighthouse at dawn."], "image_model": "FLUX1.1PRO"}}


def reelflow(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, so what a user sees (and no traceback) is what the test sees."""
    return subprocess.run([sys.executable, "-c", "from adapter.cli import app; app()", *args], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture
def body(tmp_path: Path) -> Path:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(BODY))
    return path


def test_batch_with_the_service_down_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    manifest = tmp_path / "nightly.jsonl"
    manifest.write_text(json.dumps(BODY) + "\n")
    prefect = f"http://127.0.0.1:{closed_port()}/api"
    done = reelflow("batch", str(manifest), "--api-key", "k", PREFECT_API_URL=prefect)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert f"not reachable at {prefect}" in line
    assert "make run" in line


@pytest.mark.parametrize("command", [["status", "some-id"], ["cancel", "some-id"], ["list"],
                                     ["download", "some-id", "-o", "x.mp4"], ["watch"]])
def test_every_service_command_with_the_service_down_prints_one_line_and_exits_2(command: list[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    done = reelflow(*command, "--url", url, "--api-key", "k")
    assert done.returncode == 2
    assert f"the service is not reachable at {url}; start it with `make run`" in one_line(done.stderr)


def test_submit_with_the_service_down_prints_one_line_and_exits_2(body: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    done = reelflow("submit", "narrative", str(body), "--wait", REELFLOW_API_URL=url, REELFLOW_API_KEY="k")
    assert done.returncode == 2
    assert f"not reachable at {url}" in one_line(done.stderr)
    assert done.stdout == ""


def test_the_key_make_run_generated_is_used_by_default(body: Path, clean_settings: Path) -> None:
    (clean_settings / "api_key").write_text("rf_generated\n")
    with scripted_api() as api:
        api.answer("/v1/video/create_narrative", (200, {"request_id": "r-42"}))
        done = reelflow("submit", "narrative", str(body), "--url", api.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "r-42"
    assert api.seen[0].headers["api_key"] == "rf_generated"
    assert json.loads(api.seen[0].body) == BODY


def test_no_key_anywhere_is_one_line_and_exit_2(body: Path) -> None:
    done = reelflow("submit", "narrative", str(body), "--url", f"http://127.0.0.1:{closed_port()}")
    assert done.returncode == 2
    assert "no API key: pass --api-key or set REELFLOW_API_KEY" in one_line(done.stderr)


def test_list_on_a_server_without_the_endpoint_says_so() -> None:
    with scripted_api() as api:  # answers 404 {"message": "Not Found"} to what it was not scripted for
        done = reelflow("list", "--url", api.url, "--api-key", "k")
    assert done.returncode == 2
    assert "this server does not list requests yet (GET /v1/video/requests answered 404)" in one_line(done.stderr)


def test_the_in_process_narrative_says_it_does_not_use_the_service() -> None:
    done = reelflow("narrative", "--help")
    assert "does not use the running" in " ".join(done.stdout.split())


def test_submit_wait_prints_the_id_then_the_video_url(body: Path) -> None:
    running = {"request_id": "r-7", "status": "IN_PROGRESS", "progress": 40, "stage": "image_generation"}
    done = {"request_id": "r-7", "status": "COMPLETED", "progress": 100, "result": {"videoUrl": "http://x/v.mp4"}}
    with scripted_api() as api:
        api.answer("/v1/video/create_narrative", (200, {"request_id": "r-7"}))
        api.answer("/v1/video/status", (200, running), (200, done))
        done_run = reelflow("submit", "narrative", str(body), "--wait", "--url", api.url, "--api-key", "k")
    assert done_run.returncode == 0, done_run.stderr
    assert done_run.stdout.splitlines() == ["r-7", "http://x/v.mp4"]


def test_submit_wait_on_a_failed_job_prints_its_message_and_exits_1(body: Path) -> None:
    failed = {"request_id": "r-8", "status": "FAILED", "progress": 30, "message": "image_generation failed: scene 1"}
    with scripted_api() as api:
        api.answer("/v1/video/create_narrative", (200, {"request_id": "r-8"}))
        api.answer("/v1/video/status", (200, failed))
        done = reelflow("submit", "narrative", str(body), "--wait", "--url", api.url, "--api-key", "k")
    assert done.returncode == 1
    assert done.stdout.strip() == "r-8"
    assert "reelflow: request r-8 FAILED: image_generation failed: scene 1" in done.stderr


def test_watch_refreshes_until_ctrl_c_then_exits_0() -> None:
    running = {"request_id": "r-9", "status": "IN_PROGRESS", "progress": 55, "stage": "speech_generation"}
    with scripted_api() as api:
        api.answer("/v1/video/status", (200, running))
        watch = subprocess.Popen([sys.executable, "-c", "from adapter.cli import app; app()", "watch", "r-9",
                                  "--interval", "0.2", "--url", api.url, "--api-key", "k"], cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(api.seen) < 3:  # the first render and two refreshes
            assert time.monotonic() < deadline and watch.poll() is None, watch.communicate()
            time.sleep(0.05)
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=30)
    assert watch.returncode == 0, err
    assert "Traceback" not in err
    assert "speech_generation" in out
    assert {seen.query["request_id"] for seen in api.seen} == {"r-9"}
