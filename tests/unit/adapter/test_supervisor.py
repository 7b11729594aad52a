"""The supervisor's helpers: socket placement, the children's environment, readiness, and stopping without orphans."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import psutil
import pytest

from adapter.embedded_pg import SOCKET_PATH_MAX, cluster_dir, database_url, postmaster_ready, reachable, socket_dir_for
from adapter.processes import StartupFailed, spawn, stop, wait_ready
from adapter.supervisor import child_env
from core.settings import get_settings


def test_a_short_data_dir_keeps_the_socket_inside_it(tmp_path: Path) -> None:
    assert socket_dir_for(Path("/srv/reelflow/postgres")) == Path("/srv/reelflow/postgres")


def test_a_deep_data_dir_gets_a_short_stable_socket_dir() -> None:
    deep = Path("/tmp/pytest-of-root/pytest-1234") / ("very_long_test_name_" * 4) / "stack0" / "postgres"
    chosen = socket_dir_for(deep)
    assert chosen.parent == Path("/tmp") and chosen.name.startswith("reelflow-pg-")
    assert len(os.fsencode(chosen / ".s.PGSQL.5432")) <= SOCKET_PATH_MAX
    assert socket_dir_for(deep) == chosen
    assert socket_dir_for(deep.with_name("other")) != chosen


def test_the_database_url_quotes_the_socket_dir() -> None:
    url = database_url(Path("/data/my dir/postgres"))
    assert url == "postgresql+asyncpg://postgres@/postgres?host=/data/my%20dir/postgres"


def test_children_share_one_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELFLOW_DATA_DIR", "rel-data")
    monkeypatch.setenv("REELFLOW_PREFECT_PORT", "4321")
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere/api")
    get_settings.cache_clear()
    env = child_env(get_settings(), "postgresql+asyncpg://db")
    data = tmp_path / "rel-data"
    assert env["REELFLOW_DATA_DIR"] == str(data)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4321/api"
    assert env["PREFECT_HOME"] == str(data / "prefect")
    assert env["PREFECT_LOCAL_STORAGE_PATH"] == str(data / "results")
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == "postgresql+asyncpg://db"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["PREFECT_RUNNER_POLL_FREQUENCY"] == "1"
    assert env["PREFECT_LOGGING_LEVEL"] == "DEBUG"


def test_every_module_logs_to_the_run_unless_the_operator_chose_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_LOGGING_EXTRA_LOGGERS", raising=False)
    env = child_env(get_settings(), "postgresql+asyncpg://db")
    assert env["PREFECT_LOGGING_EXTRA_LOGGERS"] == "core,media,providers,tasks,flows"
    assert env["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] == "ignore"
    monkeypatch.setenv("PREFECT_LOGGING_EXTRA_LOGGERS", "providers")
    assert child_env(get_settings(), "postgresql+asyncpg://db")["PREFECT_LOGGING_EXTRA_LOGGERS"] == "providers"


@pytest.mark.parametrize(("pid_line", "status", "ready"), [("42", "ready", True), ("41", "ready", False),
                                                           ("42", "starting", False)])
def test_postmaster_ready_needs_our_pid_and_status_ready(tmp_path: Path, pid_line: str, status: str,
                                                         ready: bool) -> None:
    lines = [pid_line, str(tmp_path), "1700000000", "5432", str(tmp_path), "", "  1  2", f"{status}   "]
    (tmp_path / "postmaster.pid").write_text("\n".join(lines) + "\n")
    assert postmaster_ready(tmp_path, 42) is ready
    assert postmaster_ready(tmp_path / "missing", 42) is False


def test_a_child_that_never_gets_ready_fails_with_its_name_and_output() -> None:
    child = spawn("sleepy", ["sh", "-c", "echo warming up; sleep 30"], os.environ)
    try:
        with pytest.raises(StartupFailed, match=r"(?s)sleepy was not ready within 0 s.*warming up"):
            wait_ready(child, lambda: False, "never", 0.3, threading.Event())
    finally:
        stop(child, grace=2)


def test_stop_leaves_no_orphan_even_one_that_left_the_group() -> None:
    child = spawn("tree", ["sh", "-c", "setsid sleep 300 & sleep 300 & wait"], os.environ)

    def left_the_group() -> bool:  # the condition asserted below, not a proxy: two children exist before setsid ran
        try:
            return any(os.getpgid(p.pid) != child.pid and p.name() == "sleep"
                       for p in psutil.Process(child.pid).children(recursive=True))
        except (ProcessLookupError, psutil.Error):
            return False

    wait_ready(child, left_the_group, "setsid child", 5, threading.Event())
    descendants = psutil.Process(child.pid).children(recursive=True)
    assert any(os.getpgid(p.pid) != child.pid for p in descendants)
    stop(child, grace=2)
    _, alive = psutil.wait_procs(descendants, timeout=2)
    assert alive == []
    assert child.process.returncode == -signal.SIGTERM


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    child = spawn("stubborn", ["sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 0.1; done"], os.environ)
    wait_ready(child, lambda: "trapped" in child.tail, "trap", 5, threading.Event())
    stop(child, grace=0.5)
    assert child.process.returncode == -signal.SIGKILL


def test_reachable_needs_search_permission_on_every_ancestor_for_that_account(tmp_path: Path) -> None:
    private = tmp_path / "private"
    (private / "checkout" / "data").mkdir(parents=True)
    private.chmod(0o700)
    outsider = (os.geteuid() + 12345, os.getegid() + 12345)  # neither owner nor group of anything here
    tmp_path.chmod(0o755)
    assert reachable(private / "checkout" / "data", (os.geteuid(), os.getegid())) is True
    assert reachable(private / "checkout" / "data", outsider) is False
    private.chmod(0o711)
    assert reachable(private / "checkout" / "data", outsider) is all(
        p.stat().st_mode & 0o001 for p in tmp_path.parents)


def test_a_normal_user_keeps_the_cluster_in_the_data_dir(tmp_path: Path) -> None:
    assert cluster_dir(tmp_path, None) == tmp_path / "postgres"
