"""RFC 9457 problem details: the server's one error shape, per request and per change.

Every error the server answers is ``application/problem+json`` with a relative ``type``
``/problems/<token>`` (SYNC.md's tokens). A bad request is a 4xx with a clear problem; an
unexpected failure is a 500 or 503 that says "retry later" and leaks nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.wire import MAX_CHANGES_PER_PUSH, MAX_NESTING

log = logging.getLogger("samverka.server")

MEDIA_TYPE = "application/problem+json"

TITLES = {
    "invalid": "Invalid request",
    "forbidden": "Not allowed",
    "not-found": "Not found",
    "clock-skew": "Clock ahead of the server",
    "unauthorized": "Not authorised",
    "rate-limited": "Too many attempts",
    "too-large": "Request too large",
    "resync-required": "Full resync required",
    "client-too-old": "Client too old",
    "unavailable": "Server busy, retry later",
    "server-error": "Server error, retry later",
}
STATUS = {
    "invalid": 422,
    "forbidden": 403,
    "not-found": 404,
    "clock-skew": 422,
    "unauthorized": 401,
    "rate-limited": 429,
    "too-large": 413,
    "resync-required": 410,
    "client-too-old": 426,
    "unavailable": 503,
    "server-error": 500,
}


def problem(token: str, detail: str, *, status: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{token}",
        "title": TITLES[token],
        "status": status or STATUS[token],
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem."""

    def __init__(
        self,
        token: str,
        detail: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.body = problem(token, detail, status=status, **extra)
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return self.body["status"]


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], headers=headers, media_type=MEDIA_TYPE)


def problem_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _location(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) if parts else "body"


def _validation_problem(exc: RequestValidationError) -> dict[str, Any]:
    errors = exc.errors()
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc == ("body", "changes") and error.get("type") == "too_long":
            return problem(
                "too-large",
                f"a push may carry at most {MAX_CHANGES_PER_PUSH} changes; send them in batches",
            )
    for error in errors:
        if error.get("type") == "json_invalid":
            return problem("invalid", "the body is not valid JSON", status=400)
    first = errors[0] if errors else {}
    where = _location(first.get("loc", ()))
    message = str(first.get("msg", "invalid value"))
    summary = [
        {"field": _location(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in errors[:20]
    ]
    return problem(
        "invalid",
        f"{where}: {message}",
        field=where,
        errors=summary,
    )


def install(app: FastAPI) -> None:
    """Answer every error the framework or the code raises as a problem."""

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_validation_problem(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            body = problem("not-found", "no such endpoint; the protocol's paths are under /v1/")
        elif exc.status_code == 405:
            body = problem("invalid", "this method is not allowed here", status=405)
        elif exc.status_code == 401:
            body = problem("unauthorized", str(exc.detail))
        elif isinstance(exc.__cause__, RecursionError):
            # FastAPI's answer when json.loads gives up on a body nested about a thousand
            # levels deep (its own bound); the JSON is valid, the shape is not.
            body = problem(
                "invalid",
                f"the body is nested too deeply; values may be nested at most {MAX_NESTING} levels",
                field="body",
            )
        else:
            body = problem("invalid", str(exc.detail), status=exc.status_code)
        return problem_response(body, dict(exc.headers or {}))

    @app.exception_handler(OperationalError)
    async def _database(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        body = problem("unavailable", "the database is busy or unreachable; retry later")
        return problem_response(body, {"Retry-After": "5"})

    @app.exception_handler(DataError)
    async def _unstorable(_request: Request, exc: DataError) -> JSONResponse:
        log.warning("database refused a value: %s", type(exc.orig).__name__ if exc.orig else exc)
        return problem_response(problem("invalid", "a value in the request cannot be stored"))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        body = problem("server-error", "the server failed to answer; nothing was decided, retry later")
        return problem_response(body)
