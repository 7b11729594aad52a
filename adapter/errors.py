"""HTTP-facing errors and the one place that turns any error into ``{"message": ...}`` with a status code.

Routes raise; handlers answer. Nothing escapes as FastAPI's 422 or as a bare 500 with a stack trace.
"""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import InvalidRequest, NotFound, ReelflowError
from core.intake import AdmissionRefused
from core.intake_db import IntakeDown

log = logging.getLogger(__name__)


class ApiError(ReelflowError):
    """An error with its HTTP status; ``str(exc)`` is the message the caller sees."""

    status_code = 500


class MissingApiKey(ApiError):
    status_code = 400


class UnknownApiKey(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class PayloadTooLarge(ApiError):
    status_code = 413


class Conflict(ApiError):
    status_code = 409


class Gone(ApiError):
    status_code = 410


class Unavailable(ApiError):
    status_code = 503


def _message(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"message": message})


def install_handlers(app: FastAPI) -> None:
    """Register every exception handler once, in the app factory."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _message(exc.status_code, str(exc))

    @app.exception_handler(InvalidRequest)
    async def invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
        return _message(400, str(exc))

    @app.exception_handler(AdmissionRefused)
    async def refused(_: Request, exc: AdmissionRefused) -> JSONResponse:
        return JSONResponse(status_code=429, content={"message": str(exc)},
                            headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(IntakeDown)
    async def intake_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("intake error on %s %s: %s", request.method, request.url.path, exc)
        return _message(503, "the job intake (PostgreSQL) is not reachable; try again shortly")

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _message(404, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body", "header"))
        return _message(400, f"{where}: {first.get('msg', 'invalid request')}".lstrip(": "))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        text = exc.detail if isinstance(exc.detail, str) else "request failed"
        return _message(exc.status_code, text)

    @app.exception_handler(httpx.HTTPStatusError)
    async def prefect_refused(request: Request, exc: httpx.HTTPStatusError) -> JSONResponse:
        """Prefect refused a call (its client no longer retries inside a request): 503 when Prefect is overloaded
        or failing, 400 when it found the request itself unacceptable. Never a 500 or a wait."""
        code = exc.response.status_code
        log.warning("Prefect answered %s on %s %s", code, request.method, request.url.path)
        if code >= 500 or code in (408, 429):
            return _message(503, f"the job service (Prefect) could not take the request now (HTTP {code}); "
                                 "try again shortly")
        return _message(400, f"the job service (Prefect) refused the request (HTTP {code}); check the input")

    @app.exception_handler(httpx.TransportError)
    async def prefect_unreachable(request: Request, exc: httpx.TransportError) -> JSONResponse:
        log.warning("Prefect unreachable on %s %s: %s", request.method, request.url.path, exc)
        return _message(503, "the job service (Prefect) is not reachable; try again shortly")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _message(500, "internal error; the server log has the details")
