"""A scale-out deployment on this machine, for the distributed test and the scale benchmark.

What an operator runs on several machines (docs/scaling.md), each piece a real process: a fresh database on the
PostgreSQL at 127.0.0.1:5432, a Prefect server on it, a moto S3 server with one bucket, the deployments of
``deployments/prefect.yaml`` registered exactly as ``make deploy`` does, N ``prefect worker start --pool reelflow``
processes, ``reelflow reconcile`` and the API. Every child runs in its own session (adapter.processes.spawn), so a
worker can be killed with its flow-run processes as if its machine died. Not a test module.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg
import httpx
import psutil

from adapter.processes import Child, http_ok, spawn, stop, wait_ready
from tests.e2e.stack import REPO, free_port
from tests.fakes.s3_server import CREDENTIALS

PG = "postgres@127.0.0.1:5432"
PY = sys.executable
BIN = Path(sys.executable).parent
READY_TIMEOUT = 90.0
# moto's S3 server without its one-line-per-request access log (python -m moto.server has no switch for it)
MOTO = ("import logging, sys; logging.getLogger('werkzeug').setLevel(logging.ERROR); "
        "from moto.server import main; main(sys.argv[1:])")
VENDOR_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REPLICATE_API_TOKEN", "REPLICATE_BASE_URL",
                    "RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL", "ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"postgresql://{PG}/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_available() -> bool:
    """True when the machine's PostgreSQL answers (trust auth as user postgres)."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


class Cluster:
    """Start with :meth:`start` (or as a context manager); everything is stopped and the database dropped after."""

    def __init__(self, root: Path, workers: int = 2, worker_limit: int = 2, extra_env: dict[str, str] | None = None,
                 api: bool = True, reconciler: bool = True, quiet: bool = False) -> None:
        """``quiet`` writes each child's output to ``<root>/<name>.log`` instead of the console (benchmarks)."""
        self.root = root
        self.database = f"reelflow_{uuid.uuid4().hex[:12]}"
        self.bucket = f"reelflow-{uuid.uuid4().hex[:8]}"
        self.prefect_api_url = f"http://127.0.0.1:{free_port()}/api"
        self.auth_string = f"reelflow:{uuid.uuid4().hex}"  # docs/scaling.md: Prefect never runs open on a network
        self.s3_endpoint = f"http://127.0.0.1:{free_port()}"
        self.api_url = f"http://127.0.0.1:{free_port()}"
        self.n_workers, self.worker_limit, self.with_api, self.with_reconciler = workers, worker_limit, api, reconciler
        self.extra_env = extra_env or {}
        self.quiet = quiet
        self.children: list[Child] = []
        self.workers: dict[str, Child] = {}
        self._created_db = False

    @property
    def env(self) -> dict[str, str]:
        """The one environment every process of the deployment shares (as every machine would be configured)."""
        inherited = {k: v for k, v in os.environ.items()  # never the developer's keys, profile or AWS account
                     if not k.startswith(("REELFLOW_", "PREFECT_", "AWS_")) and k not in VENDOR_VARIABLES}
        return {
            **inherited,
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "PREFECT_API_URL": self.prefect_api_url,
            "PREFECT_SERVER_API_AUTH_STRING": self.auth_string,
            "PREFECT_API_AUTH_STRING": self.auth_string,
            "PREFECT_SERVER_CSRF_PROTECTION_ENABLED": "true",
            "PREFECT_HOME": str(self.root / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{PG}/{self.database}",
            # the intake: a database of its own next to Prefect's, created by the API/dispatcher at start-up
            "REELFLOW_DATABASE_URL": f"postgresql+asyncpg://{PG}/{self.database}",
            "REELFLOW_INTAKE_DATABASE": f"{self.database}_intake",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
            "PYTHONUNBUFFERED": "1",
            "REELFLOW_DATA_DIR": str(self.root / "data"),
            "REELFLOW_STORAGE_URL": f"s3://{self.bucket}/reelflow",
            "REELFLOW_API_PORT": self.api_url.rsplit(":", 1)[1],
            **self.extra_env,
        }

    def _start(self, name: str, argv: list[str], ready: Any, what: str) -> Child:
        if self.quiet:
            with (self.root / f"{name}.log").open("ab") as log:
                child = Child(name, subprocess.Popen(argv, env=self.env, cwd=self.root, stdin=subprocess.DEVNULL,
                                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        else:
            child = spawn(name, argv, self.env, cwd=self.root)
        self.children.append(child)
        wait_ready(child, ready, what, READY_TIMEOUT, threading.Event())  # an event nobody sets: no Ctrl-C here
        return child

    def start(self) -> Cluster:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        asyncio.run(_admin(f'CREATE DATABASE "{self.database}"'))
        self._created_db = True
        base = self.prefect_api_url.removesuffix("/api")
        self._start("moto", [PY, "-c", MOTO, "-H", "127.0.0.1", "-p", self.s3_endpoint.rsplit(":", 1)[1]],
                    lambda: http_ok(f"{self.s3_endpoint}/moto-api/"), "moto answers")
        self.s3().create_bucket(Bucket=self.bucket)
        self._start("prefect", [PY, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                                base.rsplit(":", 1)[1]], lambda: http_ok(f"{self.prefect_api_url}/health"),
                    "GET /api/health")
        self.deploy()
        for index in range(self.n_workers):
            self.start_worker(f"worker-{chr(ord('a') + index)}")
        if self.with_reconciler:
            self._start("reconcile", [str(BIN / "reelflow"), "reconcile"], lambda: self._automation_exists(),
                        "the crash automation exists")
        if self.with_api:
            self._start("dispatch", [str(BIN / "reelflow"), "dispatch"], lambda: True, "started")
            port = self.api_url.rsplit(":", 1)[1]
            self._start("api", [PY, "-m", "uvicorn", "adapter.http:create_app", "--factory", "--host", "127.0.0.1",
                                "--port", port, "--no-access-log"],
                        lambda: http_ok(f"{self.api_url}/health"), "GET /health")
        return self

    def deploy(self) -> None:
        """Exactly ``make deploy``: the process pool, then every deployment of deployments/prefect.yaml."""
        for argv in ([str(BIN / "prefect"), "--no-prompt", "work-pool", "create", "reelflow", "--type", "process",
                      "--overwrite"],
                     [str(BIN / "prefect"), "--no-prompt", "deploy", "--all", "--prefect-file",
                      "deployments/prefect.yaml"]):
            done = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(argv[1:4])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")

    def start_worker(self, name: str) -> Child:
        argv = [PY, "-m", "prefect", "worker", "start", "--pool", "reelflow", "--name", name, "--limit",
                str(self.worker_limit)]
        child = self._start(name, argv, lambda: self._worker_online(name), "the worker's first poll")
        self.workers[name] = child
        return child

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker with everything it started, as if its machine died (no hooks, no final state)."""
        child = self.workers.pop(name)
        tree = _tree(child.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        for process in tree:
            with contextlib.suppress(psutil.Error):
                process.kill()
        child.process.wait(10)
        psutil.wait_procs(tree, timeout=10)

    @contextlib.contextmanager
    def prefect(self, timeout: float = 10.0) -> Iterator[httpx.Client]:
        """A raw client of the Prefect REST API with what this server demands: the auth string (Basic) and, for
        writes, a CSRF token (what Prefect's own client does when CSRF protection is on)."""
        token = base64.b64encode(self.auth_string.encode()).decode()
        with httpx.Client(base_url=self.prefect_api_url, timeout=timeout,
                          headers={"Authorization": f"Basic {token}"}) as client:
            csrf_client = uuid.uuid4().hex
            csrf = client.get(f"/csrf-token?client={csrf_client}").raise_for_status().json()["token"]
            client.headers.update({"Prefect-Csrf-Token": csrf, "Prefect-Csrf-Client": csrf_client})
            yield client

    def _worker_online(self, name: str) -> bool:
        with contextlib.suppress(httpx.HTTPError), self.prefect(timeout=2) as prefect:
            response = prefect.post("/work_pools/reelflow/workers/filter", json={})
            return any(w["name"] == name and w.get("status") == "ONLINE" for w in response.json())
        return False

    def _automation_exists(self) -> bool:
        with contextlib.suppress(httpx.HTTPError), self.prefect(timeout=2) as prefect:
            response = prefect.post("/automations/filter", json={})
            return any(a["name"].startswith("reelflow:") for a in response.json())
        return False

    def s3(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def bucket_keys(self, prefix: str = "") -> list[str]:
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def events(self, event: str) -> list[dict[str, Any]]:
        """Every Prefect event of one name (e.g. ``prefect.worker.executed-flow-run``), paging through them all."""
        found: list[dict[str, Any]] = []
        with self.prefect() as prefect:
            response = prefect.post("/events/filter",
                                    json={"filter": {"event": {"name": [event]}}, "limit": 50})  # the API's maximum
            page = response.raise_for_status().json()
            found += page["events"]
            while page.get("next_page"):
                page = prefect.get(page["next_page"]).raise_for_status().json()
                found += page["events"]
        return found

    def runs_by_worker(self, event: str = "prefect.worker.executed-flow-run") -> dict[str, list[str]]:
        """request id → names of the workers that emitted ``event`` for its run, in time order."""
        by_run: dict[str, list[str]] = {}
        for item in sorted(self.events(event), key=lambda e: e["occurred"]):
            worker = item["resource"].get("prefect.resource.name", "")
            for related in item["related"]:
                if related.get("prefect.resource.role") == "flow-run":
                    run = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
                    by_run.setdefault(run, []).append(worker)
        return self._by_request(by_run)

    def _by_request(self, by_run: dict[str, list[str]]) -> dict[str, list[str]]:
        """Re-key flow-run ids by the request id each job run carries (runs without one keep their own id)."""
        if not by_run:
            return by_run
        with self.prefect() as prefect:
            runs = prefect.post("/flow_runs/filter", json={
                "flow_runs": {"id": {"any_": list(by_run)}}, "limit": 200}).raise_for_status().json()
        names = {run["id"]: run["labels"].get("reelflow.request_id") or run["id"] for run in runs}
        return {names.get(run_id, run_id): workers for run_id, workers in by_run.items()}

    def flow_run_of(self, request_id: str) -> dict[str, Any]:
        """The flow run the dispatcher made for a request (found by its ``request:<id>`` tag)."""
        with self.prefect() as prefect:
            runs = prefect.post("/flow_runs/filter", json={
                "flow_runs": {"tags": {"all_": [f"request:{request_id}"]}}, "limit": 2}).raise_for_status().json()
        assert len(runs) == 1, runs
        return dict(runs[0])

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.exited() is None:
                stop(child, grace=5.0)  # a worker may ignore its first SIGTERM: stop() SIGKILLs it after the grace
        self.children.clear()
        if self._created_db:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.database}_intake" WITH (FORCE)'))
            self._created_db = False

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
