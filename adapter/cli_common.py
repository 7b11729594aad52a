"""What every CLI command that needs the running service shares: the one-line "not reachable" exit.

A command that talks to the service (``submit``, ``status``, ``batch``, ...) and finds nothing listening prints
one line naming the address and how to start the service, and exits 2: a newcomer who forgot ``make run`` sees
what to do, not a traceback from deep inside httpx or the Prefect client.
"""

from __future__ import annotations

from typing import NoReturn

import httpx
import typer
from rich.console import Console

NOT_REACHABLE_EXIT = 2
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def not_reachable(url: str) -> NoReturn:
    """Say the service is not reachable at ``url`` and how to start it, then exit 2."""
    err_console.print(f"reelflow: the service is not reachable at {url}; start it with `make run` "
                      "(or `reelflow serve`), or point --url / PREFECT_API_URL at a running one.", markup=False)
    raise typer.Exit(NOT_REACHABLE_EXIT)


def require_reachable(url: str, health_path: str = "/health") -> None:
    """Exit through ``not_reachable`` unless something answers HTTP at ``url + health_path`` (any status)."""
    try:
        httpx.get(url.rstrip("/") + health_path, timeout=5)
    except httpx.TransportError:
        not_reachable(url)
