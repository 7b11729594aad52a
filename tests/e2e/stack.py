"""The real stack for end-to-end tests: ``reelflow serve``'s supervisor as a subprocess on free ports.

Not a test module: the e2e conftest starts one ``Stack`` per session. The supervisor runs in its own process group
with its output in ``<data_dir>/stack.log``, so a failing start or stop can show the log's tail. ``stop()`` also
checks that the supervisor left nothing behind: every process it had started must be gone once it exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psutil

from adapter.embedded_pg import database_url
from core.intake_db import sibling_url
from core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it, so parallel sessions do not collide)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    """A running supervisor; use as a context manager so the stack stops even when a test fails."""

    def __init__(self, process: subprocess.Popen[bytes], api_port: int, prefect_port: int, log_path: Path) -> None:
        self.process = process
        self.api_url = f"http://127.0.0.1:{api_port}"
        self.prefect_api_url = f"http://127.0.0.1:{prefect_port}/api"
        self.log_path = log_path
        self.data_dir = log_path.parent
        self._log_start = log_path.stat().st_size if log_path.exists() else 0

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Poll the API's /health until it answers and the supervisor has said the whole stack is up (the API
        starts beside Prefect, so it can answer before the runner has registered the deployments)."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"the stack exited with code {code} while starting; log tail:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200 and self._said_up():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stack was not healthy within {timeout:.0f} s; log tail:\n{self.log_tail()}")
            time.sleep(0.25)

    def _said_up(self) -> bool:
        """The supervisor's "reelflow is up" line is in the log since this stack (re)started."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return b"] reelflow is up in " in log.read()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Signal the supervisor's group (SIGTERM, or SIGINT as Ctrl-C in its terminal does); it must exit within 30 s
        and leave no process behind, else raise."""
        if self.process.poll() is not None:
            return
        try:
            tree = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(STOP_TIMEOUT)
            hung = False
        except subprocess.TimeoutExpired:
            hung = True
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        _, orphans = psutil.wait_procs(tree, timeout=2)
        for process in orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        if hung:
            raise AssertionError(f"the stack did not stop within {STOP_TIMEOUT:.0f} s; log tail:\n{self.log_tail()}")
        if orphans:
            names = ", ".join(f"{p.pid} {_describe(p)}" for p in orphans)
            raise AssertionError(f"the stack left processes behind (now killed): {names}")

    @property
    def intake_url(self) -> str:
        """The intake database of the stack's embedded PostgreSQL, over the socket its postmaster was started with
        (``-k``), for tests that look at or stage rows as the service's own processes would leave them."""
        postmaster = psutil.Process(int((self.data_dir / "run" / "postgres.pid").read_text()))
        args = postmaster.cmdline()
        socket_dir = Path(args[args.index("-k") + 1])
        return sibling_url(database_url(socket_dir), Settings.model_fields["intake_database"].default)

    def flow_run_of(self, request_id: str) -> dict[str, Any]:
        """The flow run the dispatcher made for a request (found by its ``request:<id>`` tag)."""
        runs = httpx.post(f"{self.prefect_api_url}/flow_runs/filter", timeout=10, json={
            "flow_runs": {"tags": {"all_": [f"request:{request_id}"]}}, "limit": 2}).raise_for_status().json()
        assert len(runs) == 1, runs
        return dict(runs[0])

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


@contextlib.contextmanager
def frozen_runner(data_dir: Path) -> Iterator[None]:
    """Hold the stack's runner (and everything in its process group) still with SIGSTOP, then let it go on.

    For jobs that must wait instead of rendering: pausing the deployment does not do it (Prefect's runner still
    runs a paused deployment's runs that were created by hand, as the dispatcher creates them), and renders would
    take the two cores the measurement or the test needs. The supervisor sees a live runner throughout. The runner
    also hosts the reconciler, which waits with it.
    """
    group = int((data_dir / "run" / "runner.pid").read_text())
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


def _describe(process: psutil.Process) -> str:
    with contextlib.suppress(psutil.Error):
        return " ".join(process.cmdline())[:120]
    return "?"


def start_stack(data_dir: Path, extra_env: dict[str, str], repo: Path = REPO, python: str = sys.executable) -> Stack:
    """Start the supervisor on ``data_dir`` with free ports and wait until the API answers /health.

    ``extra_env`` carries what the caller wants the service to see (e.g. REELFLOW_API_KEYS); it wins over ours.
    ``repo`` and ``python`` run the stack from another checkout and interpreter (a copy under a private dir).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    api_port, prefect_port = free_port(), free_port()
    env = {**os.environ, "REELFLOW_DATA_DIR": str(data_dir.resolve()), "REELFLOW_API_PORT": str(api_port),
           "REELFLOW_PREFECT_PORT": str(prefect_port), "PYTHONUNBUFFERED": "1", **extra_env}
    env.pop("PREFECT_API_URL", None)  # the supervisor sets its own; a leftover one must not leak into the test
    log_path = data_dir / "stack.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen([python, "-c", "from adapter.supervisor import main; main()"], cwd=repo,
                                   env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    stack = Stack(process, api_port, prefect_port, log_path)
    try:
        stack.wait_healthy()
    except BaseException:
        with contextlib.suppress(AssertionError):  # the start failure is the error worth reporting
            stack.stop()
        raise
    return stack
