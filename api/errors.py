"""Every error the API returns is an RFC 9457 problem (``application/problem+json``), built here and only here.

Problem (status, title, detail)        raised by routes and helpers
PipelineError subclasses               mapped by ``PIPELINE_STATUS`` (AudioError -> 422, ...)
RequestValidationError / HTTPException FastAPI's own, reshaped to the same JSON
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    AudioError,
    BudgetError,
    CompositionError,
    ConfigError,
    PipelineError,
    PlanningError,
    ProviderError,
    StorageError,
    TransientProviderError,
)

log = logging.getLogger("videogen.api")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Not ready",
    413: "Upload too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Invalid input",
    500: "Internal error",
    502: "Upstream failure",
    503: "Service unavailable",
}

# Most specific first: the first isinstance match wins.
PIPELINE_STATUS: list[tuple[type[PipelineError], int]] = [
    (AudioError, 422),
    (PlanningError, 422),
    (BudgetError, 422),
    (StorageError, 503),
    (TransientProviderError, 503),
    (ProviderError, 502),
    (CompositionError, 500),
    (ConfigError, 500),
    (PipelineError, 500),
]


class Problem(Exception):
    """An HTTP problem: ``raise Problem(404, "no job 123")``; extra keyword fields are added to the body."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.extra = extra
        self.headers: dict[str, str] = {}


class Unauthorized(Problem):
    def __init__(self, detail: str = "missing or wrong bearer token") -> None:
        super().__init__(401, detail)
        self.headers = {"WWW-Authenticate": "Bearer"}


def problem_response(problem: Problem) -> JSONResponse:
    body = {"type": "about:blank", "title": problem.title, "status": problem.status, "detail": problem.detail}
    body.update(problem.extra)
    return JSONResponse(
        body, status_code=problem.status, headers=problem.headers, media_type="application/problem+json"
    )


def from_pipeline(exc: PipelineError) -> Problem:
    status = next(code for cls, code in PIPELINE_STATUS if isinstance(exc, cls))
    return Problem(status, str(exc), error=type(exc).__name__, stage=exc.stage)


def install(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_pipeline(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PipelineError)
        return problem_response(from_pipeline(exc))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem_response(Problem(422, detail, errors=errors))

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        problem = Problem(exc.status_code, str(exc.detail))
        problem.headers = dict(exc.headers or {})
        return problem_response(problem)

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(Problem(500, f"{type(exc).__name__}: internal error"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(PipelineError, on_pipeline)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
