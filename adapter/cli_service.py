"""The CLI commands that drive a running service through its public HTTP API (via ``reelflow_client``).

``reelflow submit narrative body.json --wait``, ``status``, ``list``, ``watch``, ``cancel``, ``download``. They use
exactly what any API caller uses (same auth, same validation, same 400 messages), so what works here works over
curl. The key comes from ``--api-key`` / ``REELFLOW_API_KEY``, else the server's own configuration in this checkout
(the first of ``REELFLOW_API_KEYS``, else the key ``make run`` generated in ``<data dir>/api_key``); the address from
``--url`` / ``REELFLOW_API_URL``, else ``REELFLOW_PUBLIC_URL``, else ``http://<api host>:<api port>``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapter.cli_common import err_console, not_reachable
from core.settings import get_settings
from reelflow_client import ApiError, JobStatus, NotFound, ReelflowClient, ReelflowClientError, ServiceUnreachable

UrlOpt = Annotated[str | None, typer.Option("--url", envvar="REELFLOW_API_URL", show_envvar=True,
                                            help="The API's base URL; default from the settings.")]
KeyOpt = Annotated[str | None, typer.Option("--api-key", envvar="REELFLOW_API_KEY", show_envvar=True,
                                            help="Your API key; default: this checkout's configured/generated key.")]
NO_LIST = ("this server does not list requests yet (GET /v1/video/requests answered 404); update it, or watch "
           "given ids: reelflow watch ID...")


class Kind(StrEnum):
    narrative = "narrative"
    movie = "movie"


def api_url(url: str | None) -> str:
    if url:
        return url.rstrip("/")
    settings = get_settings()
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host
    return f"http://{host}:{settings.api_port}"


def api_key(key: str | None) -> str:
    """The given key, else this checkout's configured key, else the one ``make run`` generated (never makes one)."""
    if key:
        return key
    settings = get_settings()
    configured = [k.strip() for k in settings.api_keys.split(",") if k.strip()]
    stored = settings.data_dir / "api_key"
    if configured:
        return configured[0]
    if stored.is_file():
        return stored.read_text(encoding="utf-8").strip()
    err_console.print(f"reelflow: no API key: pass --api-key or set REELFLOW_API_KEY (none in {stored}).",
                      markup=False)
    raise typer.Exit(2)


@contextlib.contextmanager
def service(url: str | None, key: str | None) -> Iterator[ReelflowClient]:
    """A client for the service; unreachable → one line and exit 2, an API error → its message and exit 1."""
    base = api_url(url)
    try:
        with ReelflowClient(api_key(key), base) as client:
            yield client
    except ServiceUnreachable:
        not_reachable(base)
    except ApiError as exc:
        err_console.print(f"reelflow: {exc.message} (HTTP {exc.status_code})", markup=False)
        raise typer.Exit(1) from exc
    except ReelflowClientError as exc:  # JobFailed from download, WaitTimeout
        err_console.print(f"reelflow: {exc}", markup=False)
        raise typer.Exit(1) from exc


def _body(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        err_console.print(f"reelflow: cannot read {path} as JSON: {exc}", markup=False)
        raise typer.Exit(2) from exc
    if not isinstance(body, dict):
        err_console.print(f"reelflow: {path} must hold one JSON object (a create_narrative/create_movie body).")
        raise typer.Exit(2)
    return body


def _finish(final: JobStatus) -> None:
    if final.status == "COMPLETED":
        typer.echo(final.video_url or "")
        return
    err_console.print(f"reelflow: request {final.request_id} {final.status}: {final.message or ''}", markup=False)
    raise typer.Exit(1)


def submit(
    kind: Annotated[Kind, typer.Argument(help="narrative or movie")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The JSON body of create_<kind>.")],
    wait: Annotated[bool, typer.Option("--wait", help="Show live progress and print the video URL at the end.")]
    = False,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    url: UrlOpt = None,
    key: KeyOpt = None,
) -> None:
    """Submit a job to the running service and print its request id (with --wait: then its video URL)."""
    body = _body(file)
    with service(url, key) as client:
        create = client.create_narrative if kind is Kind.narrative else client.create_movie
        request_id = create(body, idempotency_key=idempotency_key)
        typer.echo(request_id)
        if not wait:
            return
        with Progress(TextColumn("{task.description:<22}"), BarColumn(), TextColumn("{task.completed:>3.0f}%"),
                      TimeElapsedColumn(), console=err_console) as bar:
            task = bar.add_task("PENDING", total=100)

            def show(current: JobStatus) -> None:
                bar.update(task, completed=current.progress, description=current.stage or current.status)

            final = client.wait(request_id, on_update=show)
    _finish(final)


def status(
    request_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole /status body.")] = False,
    url: UrlOpt = None,
    key: KeyOpt = None,
) -> None:
    """Show a job's status, progress, stage and (when COMPLETED) its video URL."""
    with service(url, key) as client:
        current = client.status(request_id)
    if as_json:
        typer.echo(json.dumps(current.raw, indent=2))
        return
    typer.echo(f"{current.request_id}  {current.status}  {current.progress}%  {current.stage or ''}".rstrip())
    if current.message:
        typer.echo(current.message)
    if current.video_url:
        typer.echo(current.video_url)


def _table(rows: list[dict[str, Any]], title: str) -> Table:
    """One row per job; the stage column only when some row has one (``/status`` bodies do, list items do not)."""
    staged = any(row.get("stage") for row in rows)
    table = Table("request id", "kind", "status", "progress", *(["stage"] if staged else []), "created", title=title)
    for row in rows:
        stage = [str(row.get("stage") or "")] if staged else []
        table.add_row(str(row.get("request_id", "")), str(row.get("kind") or ""), str(row.get("status", "")),
                      f"{row.get('progress') or 0}%", *stage, str(row.get("created") or ""))
    return table


def list_requests(
    state: Annotated[str | None, typer.Option("--status", help="Only this status, e.g. IN_PROGRESS.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of the previous page.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    url: UrlOpt = None,
    key: KeyOpt = None,
) -> None:
    """List your requests on the service, newest first."""
    with service(url, key) as client:
        try:
            page = client.list(status=state, cursor=cursor, limit=limit)
        except NotFound:
            err_console.print(f"reelflow: {NO_LIST}", markup=False)
            raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"requests": page.requests, "next_cursor": page.next_cursor}, indent=2))
        return
    Console().print(_table(page.requests, f"your requests ({len(page.requests)}, newest first)"))
    if page.next_cursor:
        err_console.print(f"more: reelflow list --cursor {page.next_cursor}", markup=False)


def _recent(client: ReelflowClient, ids: list[str], limit: int) -> list[dict[str, Any]]:
    if ids:
        return [client.status(request_id).raw for request_id in ids]
    return client.list(limit=limit).requests


def watch(
    ids: Annotated[list[str] | None, typer.Argument(help="Watch these ids; default: your most recent requests.")]
    = None,
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between refreshes.")] = 1.0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 15,
    url: UrlOpt = None,
    key: KeyOpt = None,
) -> None:
    """A live table of your recent jobs (or of the given ids), refreshed until Ctrl-C."""
    with service(url, key) as client:
        try:
            with Live(_table(_recent(client, ids or [], limit), "reelflow jobs (Ctrl-C to quit)"),
                      console=Console(), auto_refresh=False) as live:
                while True:
                    time.sleep(interval)
                    live.update(_table(_recent(client, ids or [], limit), "reelflow jobs (Ctrl-C to quit)"),
                                refresh=True)
        except NotFound:
            if ids:
                raise  # an unknown id: the API's own message
            err_console.print(f"reelflow: {NO_LIST}", markup=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            return


def cancel(request_id: Annotated[str, typer.Argument()], url: UrlOpt = None, key: KeyOpt = None) -> None:
    """Cancel a job that has not finished."""
    with service(url, key) as client:
        current = client.cancel(request_id)
    typer.echo(f"{current.request_id}  {current.status}")


def download(
    request_id: Annotated[str, typer.Argument()],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the MP4.")] = Path("reelflow.mp4"),
    url: UrlOpt = None,
    key: KeyOpt = None,
) -> None:
    """Download a COMPLETED job's video."""
    with service(url, key) as client:
        path = client.download(request_id, out)
    typer.echo(str(path.resolve()))


def register(app: typer.Typer) -> None:
    """Add the service commands to the ``reelflow`` group."""
    app.command()(submit)
    app.command()(status)
    app.command("list")(list_requests)
    app.command()(watch)
    app.command()(cancel)
    app.command()(download)
