"""The input caps on their own: control characters, surrogates, depth, line and list lengths, ports, raw text."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.contract import parse_movie, parse_narrative
from core.errors import InvalidRequest
from core.textrules import (
    MAX_JSON_DEPTH,
    header_problem,
    json_depth_problem,
    port_problem,
    query_problem,
    text_problem,
)


def narrative(lines: Any, **extra: Any) -> dict[str, Any]:
    return {"input": {"prompt_list": lines, "image_model": "FLUX1.1PRO", **extra}}


@pytest.mark.parametrize("char", [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"])
def test_every_c0_control_but_tab_and_newlines_is_refused_in_lines(char: str) -> None:
    with pytest.raises(InvalidRequest, match=rf"input.prompt_list: entry 1 contains the control character "
                                             rf"U\+{ord(char):04X} at position 3"):
        parse_narrative(narrative([f"abc{char}def"]))


def test_tab_and_newlines_are_allowed_in_lines() -> None:
    assert parse_narrative(narrative(["a\tb", "c\r\nd"])).input.prompt_list == ["a\tb", "c\r\nd"]


def test_a_control_character_that_splitlines_would_split_on_is_still_refused() -> None:
    with pytest.raises(InvalidRequest, match=r"input.prompt_list: contains the control character U\+001C"):
        parse_narrative(narrative("one\x1ctwo"))


@pytest.mark.parametrize("field", ["speaker", "provider", "image_model", "video_model"])
def test_names_allow_no_control_character_at_all(field: str) -> None:
    with pytest.raises(InvalidRequest, match=rf"input.{field}: contains the control character U\+0009"):
        parse_narrative(narrative(["a"], **{field: "x\ty"}))


@pytest.mark.parametrize("surrogate", ["\ud800", "\udbff", "\udc00", "\udfff"])
def test_unpaired_surrogates_are_refused(surrogate: str) -> None:
    with pytest.raises(InvalidRequest, match=r"input.prompt_list: entry 1 contains an unpaired surrogate"):
        parse_narrative(narrative([f"a{surrogate}"]))
    with pytest.raises(InvalidRequest, match=r"webhookUrl: contains an unpaired surrogate"):
        parse_narrative({**narrative(["a"]), "webhookUrl": f"https://h.example/{surrogate}"})


def test_line_and_list_caps() -> None:
    assert parse_narrative(narrative(["x" * 1000] * 10)).input.prompt_list[0] == "x" * 1000
    with pytest.raises(InvalidRequest, match=r"line 2 has 1001 characters; at most 1000 are allowed per line"):
        parse_narrative(narrative(["ok", "x" * 1001]))
    with pytest.raises(InvalidRequest, match=r"has 10001 characters in all; at most 10000 are allowed"):
        parse_narrative(narrative(["x" * 1000] * 10 + ["y"]))


@pytest.mark.parametrize(("url", "ok"), [("http://h.example:1/x", True), ("http://h.example:65535/x", True),
                                         ("http://h.example/x", True), ("http://h.example:0/x", False),
                                         ("http://h.example:65536/x", False), ("http://h.example:99999/x", False),
                                         ("http://h.example:port/x", False)])
def test_webhook_ports(url: str, ok: bool) -> None:
    assert (port_problem(urlsplit(url)) is None) is ok
    if not ok:
        with pytest.raises(InvalidRequest, match=r"^webhookUrl: has a port outside 1-65535$"):
            parse_narrative({**narrative(["a"]), "webhookUrl": url})


def test_movie_prompt_allows_newlines_but_no_nul() -> None:
    body = {"input": {"prompt": "a\nb", "image_model": "FLUX1.1PRO", "video_model": "RUNWAYML", "duration": 10.0}}
    assert parse_movie(body).input.prompt == "a\nb"
    with pytest.raises(InvalidRequest, match=r"input.prompt: contains the control character U\+0000"):
        parse_movie({"input": {**body["input"], "prompt": "a\x00"}})


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth_problem(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is None
    assert json_depth_problem(b"[" * (MAX_JSON_DEPTH + 1)) == f"body: JSON nests deeper than {MAX_JSON_DEPTH} levels"
    assert json_depth_problem(json.dumps({"a": "[[[[" * 100, "b": "\\\"[{" * 50}).encode()) is None
    assert json_depth_problem(b"[" * 100_000 + b"]" * 100_000) is not None


def test_text_problem_accepts_ordinary_unicode() -> None:
    assert text_problem("Grüße 🎬 — ok") is None


@pytest.mark.parametrize(("raw", "problem"), [(b"a=1&b=caf%C3%A9", None), (b"a=%ff", "not valid UTF-8"),
                                              (b"a=%00", "U+0000"), (b"%01=x", "U+0001"), (b"", None)])
def test_query_strings(raw: bytes, problem: str | None) -> None:
    found = query_problem(raw)
    assert found is None if problem is None else problem in (found or "")


def test_header_values() -> None:
    assert header_problem(b"x-key", b"plain value\twith tab") is None
    assert header_problem(b"x-key", "café".encode()) is None
    assert header_problem(b"x-key", b"caf\xe9") == "header x-key: not valid UTF-8 text"
