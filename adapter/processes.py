"""Child processes of ``reelflow serve``: each in its own session, output prefixed, stopped without orphans.

Every child leads a new session (``start_new_session=True``), so a Ctrl-C in the terminal reaches only the
supervisor, which then stops the children in the order it chooses. Stopping signals the child's whole process
group, because a child's own subprocesses stay in it (Prefect 3.9's runner starts each flow run as
``python -m prefect.engine`` in the runner's group, and that run starts ffmpeg). A process that left the group with
``setsid`` (Prefect isolates some starters that way) is still found and signalled: the process tree is walked
*before* signalling, since a process whose parent has died is re-parented and no longer reachable from the child.
Whatever outlives the grace period is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.text import Text

# soft_wrap: a long log line stays one line in a log file instead of being folded at 80 columns.
console = Console(soft_wrap=True, highlight=False)
TAIL_LINES = 30
STOP_GRACE = 10.0
_STYLES = {"reelflow": "bold", "postgres": "blue", "prefect": "magenta", "runner": "cyan", "api": "green"}


class StartupFailed(Exception):
    """A child died or stayed unhealthy while the stack was starting; ``str(exc)`` says which and shows its log."""


def say(message: str, *, name: str = "reelflow", style: str = "") -> None:
    """One line of output with the same ``[name]`` prefix scheme as the children, so logs interleave readably."""
    console.print(Text(f"[{name}] ", style=_STYLES.get(name, "")) + Text.from_ansi(message, style=style))


@dataclass
class Child:
    """A running child, the signal that stops it cleanly, and the last lines it wrote (for error messages)."""

    name: str
    process: subprocess.Popen[bytes]
    stop_signal: signal.Signals = signal.SIGTERM
    signal_group: bool = True
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    reader: threading.Thread | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        """The exit code once the child is gone, else None."""
        return self.process.poll()

    def last_lines(self) -> str:
        """The tail of the child's output; waits briefly so lines written just before it died are included."""
        if self.reader is not None and self.exited() is not None:
            self.reader.join(timeout=2)
        return "\n".join(f"    {line}" for line in self.tail) or "    (no output)"


def spawn(name: str, argv: Sequence[str], env: Mapping[str, str], *, account: tuple[int, int] | None = None,
          cwd: Path | None = None, stop_signal: signal.Signals = signal.SIGTERM, signal_group: bool = True) -> Child:
    """Start ``argv`` in a new session with stdout+stderr piped to a reader thread that prefixes every line.

    ``account`` (uid, gid) drops root for children that refuse to run as root (PostgreSQL); supplementary groups are
    cleared too, so the child does not keep root's group memberships.
    """
    process = subprocess.Popen(
        list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
        user=account[0] if account else None, group=account[1] if account else None,
        extra_groups=[] if account else None,
    )
    child = Child(name, process, stop_signal, signal_group)
    child.reader = threading.Thread(target=_pump, args=(child,), name=f"output-{name}", daemon=True)
    child.reader.start()
    return child


def _pump(child: Child) -> None:
    """Copy the child's output line by line (not block-buffered) so interleaved logs stay in time order."""
    assert child.process.stdout is not None
    for raw in child.process.stdout:
        line = raw.decode("utf-8", "replace").rstrip()
        child.tail.append(line)
        say(line, name=child.name)


def http_ok(url: str) -> bool:
    """True when ``GET url`` answers 200; any connection error is just "not yet"."""
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(child: Child, ready: Callable[[], bool], what: str, timeout: float, stop: threading.Event) -> bool:
    """Poll ``ready`` until it holds (True) or a stop is requested (False).

    Raises StartupFailed, naming the child and showing its last lines, when it exits or ``timeout`` runs out:
    a supervisor that hangs silently on a broken child is worse than one that stops and says why.
    """
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        if ready():
            return True
        code = child.exited()
        if code is not None:
            raise StartupFailed(f"{child.name} exited with code {code} before {what}; its last lines:\n"
                                f"{child.last_lines()}")
        if time.monotonic() > deadline:
            raise StartupFailed(f"{child.name} was not ready within {timeout:.0f} s (waiting for {what}); "
                                f"its last lines:\n{child.last_lines()}")
        stop.wait(0.2)
    return False


def _tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants now (psutil handles pid reuse: a recycled pid is never signalled)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop(child: Child, grace: float = STOP_GRACE) -> None:
    """Stop a child and everything it started: clean signal, ``grace`` seconds, then SIGKILL for what is left.

    The leader is reaped with ``Popen.wait`` (keeps its real exit code); the rest of the tree is awaited through
    psutil. A final SIGKILL to the group catches processes started after the tree was walked.
    """
    tree, started = _tree(child.pid), time.monotonic()
    if child.exited() is None:
        if child.signal_group:
            _killpg(child.pid, child.stop_signal)
            for process in tree:  # descendants that left the group with setsid get the same polite signal
                with contextlib.suppress(psutil.Error, OSError):
                    if os.getpgid(process.pid) != child.pid:
                        process.send_signal(child.stop_signal)
        else:
            child.process.send_signal(child.stop_signal)
    deadline = time.monotonic() + grace
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.process.wait(max(deadline - time.monotonic(), 0.1))
    others = [p for p in tree if p.pid != child.pid]
    _, alive = psutil.wait_procs(others, timeout=max(deadline - time.monotonic(), 0.1))
    if child.exited() is None or alive:
        say(f"{child.name} did not stop within {grace:.0f} s; killing it ({len(alive)} leftover processes)",
            style="yellow")
        _killpg(child.pid, signal.SIGKILL)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        child.process.wait(5)
        psutil.wait_procs(alive, timeout=5)
    _killpg(child.pid, signal.SIGKILL)
    if child.reader is not None:
        child.reader.join(timeout=2)
    code = child.process.returncode  # uvicorn re-raises the SIGTERM it handled, so -SIGTERM is a clean stop too
    detail = "" if code in (0, -child.stop_signal) else f", exit code {code}"
    say(f"{child.name} stopped ({time.monotonic() - started:.1f} s{detail})")
