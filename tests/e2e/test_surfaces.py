"""The CLI and the MCP endpoint driven against the real stack, as a user and an AI agent would."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from media.probe import probe
from tests.e2e.conftest import KEY_A, narrative_body
from tests.e2e.stack import REPO, Stack

pytestmark = pytest.mark.e2e


def reelflow(stack: Stack, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, pointed at the stack's API by environment only (as a user's shell would be)."""
    env = {**os.environ, "REELFLOW_API_URL": stack.api_url, "REELFLOW_API_KEY": KEY_A}
    return subprocess.run([sys.executable, "-c", "from adapter.cli import app; app()", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_mp4(path: Path) -> None:
    info = probe(path)
    assert info.video is not None and info.video.codec == "h264", info
    assert info.audio is not None and info.audio.codec == "aac", info
    assert info.duration > 1.0, info


def test_submit_wait_prints_a_url_that_downloads_a_valid_mp4(stack: Stack, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps(narrative_body(["A paper kite rises over the dunes."], aspect_ratio="1:1")))
    done = reelflow(stack, "submit", "narrative", str(body), "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    request_id, url = done.stdout.strip().splitlines()[-2:]
    assert "Traceback" not in done.stderr
    video = httpx.get(url, timeout=60)
    assert video.status_code == 200, video.text
    (tmp_path / "via-url.mp4").write_bytes(video.content)
    assert_mp4(tmp_path / "via-url.mp4")

    status = reelflow(stack, "status", request_id, "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "COMPLETED"
    out = tmp_path / "out.mp4"
    downloaded = reelflow(stack, "download", request_id, "-o", str(out))
    assert downloaded.returncode == 0, downloaded.stderr
    assert out.read_bytes() == video.content

    listed = reelflow(stack, "list", "--status", "COMPLETED", "--json")
    assert listed.returncode == 0, listed.stderr
    mine = [row for row in json.loads(listed.stdout)["requests"] if row["request_id"] == request_id]
    assert [(row["kind"], row["status"], row["progress"]) for row in mine] == [("narrative", "COMPLETED", 100)]


def test_submit_shows_the_api_message_for_a_bad_body(stack: Stack, tmp_path: Path) -> None:
    body = tmp_path / "bad.json"
    body.write_text(json.dumps(narrative_body(["a"], image_model="DALLE3")))
    done = reelflow(stack, "submit", "narrative", str(body))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "'DALLE3' is not an express model" in done.stderr
    assert "(HTTP 400)" in done.stderr
    assert done.stdout == ""


async def _agent_session(url: str) -> tuple[list[str], dict[str, Any], list[str]]:
    """What an MCP host does: list the tools, create a narrative, poll status through the tool until it ends."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={"API_KEY": KEY_A}, timeout=60) as http, \
            Client(streamable_http_client(url, http_client=http)) as client:
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        created = await client.call_tool("create_narrative", {"prompt_list": ["An owl blinks on a moonlit branch."]})
        assert not created.is_error, created.content
        request_id = (created.structured_content or {})["request_id"]
        seen: list[str] = []
        while True:
            answer = await client.call_tool("status", {"request_id": request_id})
            assert not answer.is_error, answer.content
            body = answer.structured_content or {}
            seen.append(body["status"])
            if body["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                return tools, body, seen
            await asyncio.sleep(0.5)


def test_an_mcp_client_lists_the_tools_and_completes_a_narrative(stack: Stack, tmp_path: Path) -> None:
    tools, final, seen = asyncio.run(asyncio.wait_for(_agent_session(f"{stack.api_url}/mcp"), timeout=300))
    assert tools == ["cancel", "create_movie", "create_narrative", "status"]
    assert final["status"] == "COMPLETED", final
    assert seen[-1] == "COMPLETED"
    video = httpx.get(final["result"]["videoUrl"], timeout=60)
    assert video.status_code == 200
    (tmp_path / "mcp.mp4").write_bytes(video.content)
    assert_mp4(tmp_path / "mcp.mp4")
