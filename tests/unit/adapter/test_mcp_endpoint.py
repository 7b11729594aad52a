"""The MCP endpoint in-process: the API's authentication in front of it, and its four tools over the real protocol."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

KEY = "unit-test-key-0123456789"  # the key the conftest client knows
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}


@pytest.mark.parametrize(("headers", "status", "message"), [
    ({}, 400, "API_KEY header is missing or empty."),
    ({"API_KEY": " "}, 400, "API_KEY header is missing or empty."),
    ({"API_KEY": "not-a-key"}, 401, "API_KEY is not valid."),
    ({"api_key": "not-a-key"}, 401, "API_KEY is not valid."),
])
def test_the_endpoint_has_the_api_auth(client: TestClient, headers: dict[str, str], status: int,
                                       message: str) -> None:
    response = client.post("/mcp/", json=LIST_TOOLS, headers={**MCP_HEADERS, **headers})
    assert response.status_code == status
    assert response.json() == {"message": message}


@pytest.mark.parametrize("path", ["/mcp", "/mcp/"])
def test_a_caller_with_a_key_lists_the_four_tools(client: TestClient, path: str) -> None:
    response = client.post(path, json=LIST_TOOLS, headers={**MCP_HEADERS, "API_KEY": KEY}, follow_redirects=False)
    assert response.status_code == 200, response.text
    tools = {tool["name"]: tool for tool in response.json()["result"]["tools"]}
    assert sorted(tools) == ["cancel", "create_movie", "create_narrative", "status"]
    assert tools["create_narrative"]["inputSchema"]["required"] == ["prompt_list"]
    assert tools["status"]["inputSchema"]["required"] == ["request_id"]


def test_a_tool_error_carries_the_api_message(client: TestClient) -> None:
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "create_narrative", "arguments": {"prompt_list": ["a"], "image_model": "DALLE3"}}}
    response = client.post("/mcp/", json=call, headers={**MCP_HEADERS, "API_KEY": KEY})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["isError"] is True
    assert "'DALLE3' is not an express model" in result["content"][0]["text"]
