"""Input caps every request string and body must pass before anything else sees it.

Why a module of its own: PostgreSQL (under Prefect) refuses a NUL inside text and Python's ``json`` recurses once
per nesting level, so a NUL or a 100,000-deep body used to reach Prefect or blow the stack and come back as a 500
(or as a client retry loop that kept the caller waiting). These checks run in microseconds on the raw input and
return a plain sentence, so the contract (:mod:`core.contract`) and the HTTP adapter can answer 400 at once.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote_to_bytes

MAX_LINE_CHARS = 1_000  # one narrative line: about a minute of narration
MAX_TOTAL_CHARS = 10_000  # the whole prompt_list
MAX_JSON_DEPTH = 32  # our deepest body is 3 levels; 32 leaves room without letting a parser recurse for long

_CONTROL = re.compile(r"[\x00-\x1f]")  # the C0 set
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # the C0 set less tab, newline and carriage return
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # a valid Python str from JSON holds one only when it was unpaired
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not acceptable text, or None. ``multiline`` (free text such as narrative lines) allows tab
    and newlines; names, ids and URLs allow no control character at all."""
    control = (_CONTROL_IN_TEXT if multiline else _CONTROL).search(value)
    if control is not None:
        allowed = " (only tab and newlines are allowed)" if multiline else ""
        return (f"contains the control character U+{ord(control.group()):04X} at position {control.start()}"
                f"{allowed}; remove it")
    surrogate = _SURROGATE.search(value)
    if surrogate is not None:
        return (f"contains an unpaired surrogate U+{ord(surrogate.group()):04X} at position {surrogate.start()}; "
                "send valid Unicode text")
    return None


def entries_problem(entries: list[str]) -> str | None:
    """The text rule for each entry of a list of free-text lines, naming the entry."""
    for number, entry in enumerate(entries, start=1):
        if (problem := text_problem(entry, multiline=True)) is not None:
            return f"entry {number} {problem}"
    return None


def port_problem(parts: SplitResult) -> str | None:
    """Why the port of a split URL is unusable, or None (no port, or one in 1-65535)."""
    try:
        port = parts.port
    except ValueError:  # urllib refuses ports outside 0-65535 (and non-numeric ones) with a ValueError
        return "has a port outside 1-65535"
    return None if port is None or 1 <= port <= 65535 else "has a port outside 1-65535"


def lines_problem(lines: list[str]) -> str | None:
    """Why a list of narrative lines is too long, or None."""
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            return f"line {number} has {len(line)} characters; at most {MAX_LINE_CHARS} are allowed per line"
    total = sum(len(line) for line in lines)
    if total > MAX_TOTAL_CHARS:
        return f"has {total} characters in all; at most {MAX_TOTAL_CHARS} are allowed"
    return None


def json_depth_problem(body: bytes, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why a JSON body nests too deep, or None; checked on the bytes, before any parser recurses into them.

    Strings are blanked out first so brackets inside them do not count; only the brackets are then walked, and the
    walk stops at the first level past ``limit``.
    """
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return f"body: JSON nests deeper than {limit} levels"
        else:
            depth -= 1
    return None


def query_problem(raw: bytes) -> str | None:
    """Why a raw (percent-encoded) query string does not decode to valid text, or None."""
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                text = unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return "query: a parameter is not valid UTF-8 text"
            if (problem := text_problem(text)) is not None:
                return f"query: a parameter {problem}"
    return None


def header_problem(name: bytes, value: bytes) -> str | None:
    """Why a raw header value is not valid text, or None (HTTP servers already refuse most control bytes)."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return f"header {name.decode('latin-1')}: not valid UTF-8 text"
    problem = text_problem(text.replace("\t", " "))
    return None if problem is None else f"header {name.decode('latin-1')}: {problem}"
