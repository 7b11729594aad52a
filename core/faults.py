"""Fault injection for drills and tests (``REELFLOW_INJECT_FAULTS``): one parser for every kind of entry.

A test drives the real stack from outside its processes (API, runner, flow-run subprocesses), so an in-process
seam cannot reach them; the environment can. Entries are comma-separated:

- ``task`` or ``task:marker``: the task fails on purpose, for every scene or only for scenes whose text contains
  the marker (``tasks.common.inject_fault``), so one server runs failing and healthy jobs side by side.
- ``dns:host=a1/a2/.../aN``: the SSRF guard's lookups of ``host`` answer ``a1`` the first time, ``a2`` the second,
  and ``aN`` from then on; a DNS name whose answer changes between the create and the delivery (rebinding).
  Lookups are counted across every process that shares the data dir, in :func:`dns_log` (one line per lookup: the
  address given), which is also the drill's record of what each lookup answered. A scripted name stands for a
  public name on the internet, so the guard checks its answers even when ``REELFLOW_WEBHOOK_ALLOW_PRIVATE`` lets
  the test receivers on 127.0.0.1 in (``core.netguard``).

Task entries are read leniently (an unknown task name simply never fires); a ``dns:`` entry that does not parse is
refused when the settings load, so a drill with a typo fails at start instead of quietly resolving for real.
Never set in production: the supervisor announces it at start.
"""

from __future__ import annotations

import fcntl
import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DNS_PREFIX = "dns:"
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True)
class TaskFault:
    """``task`` fails where there is work to do, for every scene or for scenes whose text contains ``marker``."""

    task: str
    marker: str = ""


@dataclass(frozen=True)
class Faults:
    """Every fault one ``REELFLOW_INJECT_FAULTS`` value asks for."""

    tasks: tuple[TaskFault, ...] = ()
    dns: dict[str, tuple[IPAddress, ...]] = field(default_factory=dict)

    def task_fails(self, task: str, text: str = "") -> bool:
        """True when ``task`` must fail for a step about ``text``."""
        return any(f.task == task and (not f.marker or f.marker in text) for f in self.tasks)


def _host(name: str) -> str:
    """A host name as URLs and lookups compare it: lower case, without a trailing dot."""
    return name.strip().lower().rstrip(".")


def _dns_entry(entry: str) -> tuple[str, tuple[IPAddress, ...]]:
    host, sep, script = entry.removeprefix(DNS_PREFIX).partition("=")
    host = _host(host)
    if not sep or not _HOST.fullmatch(host):
        raise ValueError(f"REELFLOW_INJECT_FAULTS: '{entry}' is not dns:<host>=<address>/<address>...")
    try:
        answers = tuple(ipaddress.ip_address(a.strip()) for a in script.split("/"))
    except ValueError as exc:
        raise ValueError(f"REELFLOW_INJECT_FAULTS: '{entry}' has an answer that is not an IP address") from exc
    return host, answers


@lru_cache(maxsize=8)
def parse(text: str) -> Faults:
    """The faults a ``REELFLOW_INJECT_FAULTS`` value asks for; ``ValueError`` for a ``dns:`` entry that does not
    parse."""
    tasks: list[TaskFault] = []
    dns: dict[str, tuple[IPAddress, ...]] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        if entry.startswith(DNS_PREFIX):
            host, answers = _dns_entry(entry)
            dns[host] = answers
        else:
            name, _, marker = entry.partition(":")
            tasks.append(TaskFault(name, marker))
    return Faults(tuple(tasks), dns)


def dns_log(data_dir: Path, host: str) -> Path:
    """Where the lookups of a scripted host are counted and recorded (shared by the processes of one data dir)."""
    return data_dir / "faults" / f"dns-{_host(host)}.log"


def scripted_answer(text: str, data_dir: Path, host: str) -> IPAddress | None:
    """The next scripted answer for ``host``, or None when ``text`` does not script it (resolve it for real).

    The count and the record are one file, appended under an exclusive lock, so two processes looking the name
    up at once each get their own turn.
    """
    answers = parse(text).dns.get(_host(host))
    if answers is None:
        return None
    path = dns_log(data_dir, host)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        log.seek(0)
        turn = sum(1 for _ in log)
        answer = answers[min(turn, len(answers) - 1)]
        log.write(f"{answer}\n")
    return answer


def lookups(data_dir: Path, host: str) -> list[str]:
    """The answers given so far to a scripted host, in order (a drill's evidence)."""
    path = dns_log(data_dir, host)
    return path.read_text(encoding="utf-8").split() if path.exists() else []
