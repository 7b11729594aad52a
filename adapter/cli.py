"""The ``reelflow`` command line.

``reelflow narrative "line one" "line two" --aspect 9:16 --out demo.mp4`` runs the narrative flow in this process
(Prefect runs an ephemeral API when no ``PREFECT_API_URL`` is set) and shows its progress as a bar: offline use,
no service needed. The commands that drive the running service over its HTTP API (``submit``, ``status``,
``list``, ``watch``, ``cancel``, ``download``) live in ``adapter.cli_service`` and are registered here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from adapter import cli_service
from adapter.cli_common import require_reachable

app = typer.Typer(help="reelflow: text to narrated video, on Prefect flows.", no_args_is_help=True)
console = Console(stderr=True)
cli_service.register(app)

DEMO_LINES = [
    "A lighthouse keeper wakes before dawn on a windswept island.",
    "She climbs the spiral stairs and lights the great lamp.",
    "Far out at sea, a small fishing boat turns toward the beam.",
    "By sunrise, the crew is safe in the harbour, waving up at the tower.",
]


def _prepare_environment() -> None:
    """Keep Prefect's own files inside the data dir unless the operator chose otherwise."""
    from core.settings import get_settings

    data = get_settings().data_dir.resolve()
    os.environ.setdefault("PREFECT_HOME", str(data / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _lines(lines: list[str] | None, lines_file: Path | None) -> str | list[str]:
    if lines_file is not None:
        return lines_file.read_text(encoding="utf-8")
    return lines or []


@app.command()
def narrative(
    lines: Annotated[list[str] | None, typer.Argument(help="One scene per argument.")] = None,
    lines_file: Annotated[Path | None, typer.Option("--lines-file", exists=True, dir_okay=False,
                                                    help="A text file, one scene per line.")] = None,
    aspect: Annotated[str, typer.Option("--aspect", help="16:9, 9:16 or 1:1.")] = "16:9",
    image_model: Annotated[str | None, typer.Option(
        "--image-model", help="Default: FLUX1.1PRO, else the first express image model served here.")] = None,
    video_model: Annotated[str | None, typer.Option("--video-model")] = None,
    generative_video: Annotated[bool, typer.Option("--generative-video/--no-generative-video")] = False,
    speaker: Annotated[str | None, typer.Option("--speaker")] = None,
    provider: Annotated[str | None, typer.Option("--provider")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write the MP4.")] = Path("reelflow-narrative.mp4"),
) -> None:
    """Render a narrative in THIS process to --out (offline: does not use the running service; see `submit`).

    Its flow run goes to a throwaway Prefect API and never appears in the service's Prefect UI.
    """
    _prepare_environment()
    from core.contract import parse_narrative
    from core.errors import InvalidRequest

    body = {"input": {"prompt_list": _lines(lines, lines_file), "aspect_ratio": aspect,
                      "image_model": image_model or _default_image_model(),
                      "add_generative_video": generative_video, "video_model": video_model,
                      "speaker": speaker, "provider": provider}}
    try:
        request = parse_narrative(body)
    except InvalidRequest as exc:
        console.print(f"[red]invalid request:[/red] {exc}")
        raise typer.Exit(2) from exc
    result_path = _run_with_progress(request)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result_path, out)
    console.print(f"[green]video written:[/green] {out.resolve()}")
    typer.echo(str(out.resolve()))


def _default_image_model() -> str:
    """FLUX1.1PRO (the seed's example) when this configuration serves it, else the first express model it serves."""
    from core import catalog
    from providers import registry

    keys = ["FLUX1.1PRO", *(m.key for m in catalog.models_of("image", express_only=True))]
    return next((key for key in keys if registry.check_available(key) is None), "FLUX1.1PRO")


def _run_with_progress(request: object) -> Path:
    from core.contract import NarrativeRequest
    from flows import progress as progress_mod
    from flows.narrative import narrative as narrative_flow
    from tasks.common import storage

    assert isinstance(request, NarrativeRequest)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:>3.0f}%"),
                  TimeElapsedColumn(), console=console) as bar:
        job = bar.add_task("starting", total=100)

        def update(percent: int, stage: str) -> None:
            bar.update(job, completed=percent, description=stage or "done")

        progress_mod.LISTENERS.append(update)
        try:
            state = narrative_flow(request, return_state=True)
        finally:
            progress_mod.LISTENERS.remove(update)
    if not state.is_completed():
        console.print(f"[red]failed:[/red] {state.message}")
        raise typer.Exit(1)
    result = state.result()
    store = storage()
    return Path(store.path(result.video)) if store.is_local else store.local_copy(result.video, Path.cwd())


@app.command()
def serve() -> None:
    """Run the whole service: embedded PostgreSQL, Prefect server + UI, the runner and the API (Ctrl-C stops all)."""
    from adapter.supervisor import run_stack
    from core.settings import get_settings

    raise typer.Exit(run_stack(get_settings()))


@app.command()
def demo(out: Annotated[Path, typer.Option("--out")] = Path(".reelflow/demo.mp4")) -> None:
    """Render the built-in four-scene demo narrative (what `make run` does before the service exists)."""
    narrative(lines=DEMO_LINES, lines_file=None, aspect="16:9", image_model=None, video_model=None,
              generative_video=False, speaker=None, provider=None, out=out)


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the GET /v1/video/models body instead.")] = False,
) -> None:
    """Which model keys and voice providers this server's configuration serves, by whom, and which are refused and
    why (the same answer as GET /v1/video/models)."""
    from providers.availability import lines, report

    data = report()
    typer.echo(data.model_dump_json(indent=2) if as_json else "\n".join(lines(data)))


@app.command()
def keys() -> None:
    """List the API keys' ids with each key's webhook signing secret (what GET /v1/video/webhook_secret tells the
    key's owner). The keys themselves are never printed; match them by id (sha256 prefix, as in run tags)."""
    from core.secrets import api_keys, key_id, webhook_secret_for
    from core.settings import get_settings

    settings = get_settings()
    for key in api_keys(settings):
        kid = key_id(key)
        typer.echo(f"{kid}  {webhook_secret_for(settings, kid)}")


@app.command()
def reconcile() -> None:
    """Re-queue jobs whose worker died and deliver owed webhooks, until SIGTERM/SIGINT (run one next to a work pool;
    the embedded runner of `reelflow serve` does this itself)."""
    import logging

    from adapter.workpool import reconcile as run_reconciler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Prefect API call buries the reconciler's
    run_reconciler()


@app.command()
def dispatch() -> None:
    """Turn accepted jobs (the intake table) into Prefect flow runs until SIGTERM/SIGINT. `reelflow serve` runs one;
    run more next to a scale-out deployment (they share the work safely). Needs PREFECT_API_URL and
    REELFLOW_DATABASE_URL (or REELFLOW_INTAKE_URL)."""
    from flows.dispatch import main as run_dispatcher

    run_dispatcher()


@app.command()
def batch(
    manifest: Annotated[str, typer.Argument(help="JSONL manifest: a local path or a storage URL (s3://...).")],
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Start the valid lines anyway.")] = False,
    api_key: Annotated[str | None, typer.Option("--api-key",
                                                help="The key that owns the jobs; default: the first API key.")] = None,
    max_in_flight: Annotated[int, typer.Option("--max-in-flight", min=1, max=100)] = 4,
    detach: Annotated[bool, typer.Option("--detach", help="Print the batch id and return at once.")] = False,
) -> None:
    """Validate a manifest (one create_narrative/create_movie body per line), then run one job per line."""
    from adapter import workpool
    from core.errors import InvalidRequest
    from tasks.batch import load_manifest

    try:
        checked = load_manifest(manifest)
    except InvalidRequest as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if checked.errors:
        console.print(workpool.error_table(checked))
        if not skip_invalid or not checked.lines:
            console.print("[red]nothing was started[/red]" + ("" if checked.lines else " (no valid line)"))
            raise typer.Exit(2)
    owner = workpool.owner_id(api_key)
    with workpool.service_api() as url:
        require_reachable(url)  # Prefect's /api/health: one line and exit 2 when the service is down
        run_id = workpool.submit(manifest, checked, {"owner": owner, "skip_invalid": skip_invalid,
                                                     "max_in_flight": max_in_flight}, console)
        typer.echo(str(run_id))
        if not detach and not workpool.follow(run_id, len(checked.lines), console):
            raise typer.Exit(1)
