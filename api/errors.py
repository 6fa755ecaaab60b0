"""Every error the API returns is an RFC 9457 problem (``application/problem+json``), built here and only here.

Problem (status, title, detail)        raised by routes and helpers
PipelineError subclasses               mapped by ``PIPELINE_STATUS`` (AudioError -> 422 "invalid_audio", ...)
RequestValidationError / HTTPException FastAPI's own, reshaped to the same JSON
anything else                          500 "internal error", the details only in the log

No body names a server path, an internal URL or an exception class: ``public`` scrubs every detail on the way out
(paths and URLs become "(server path)" / "(internal address)"; the ``error`` field is a code, not a class name).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    AudioError,
    BudgetError,
    CompositionError,
    ConfigError,
    LyricsError,
    PipelineError,
    PlanningError,
    ProviderError,
    StorageError,
    StoryboardError,
    TransientProviderError,
)

log = logging.getLogger("videogen.api")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
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

# Most specific first: the first isinstance match wins. (status, the body's ``error`` code)
PIPELINE_STATUS: list[tuple[type[PipelineError], int, str]] = [
    (AudioError, 422, "invalid_audio"),
    (LyricsError, 422, "invalid_lyrics"),
    (StoryboardError, 422, "invalid_storyboard"),
    (PlanningError, 422, "planning_failed"),
    (BudgetError, 422, "over_budget"),
    (StorageError, 503, "storage_unavailable"),
    (TransientProviderError, 503, "provider_unavailable"),
    (ProviderError, 502, "provider_failed"),
    (CompositionError, 500, "composition_failed"),
    (ConfigError, 500, "misconfigured"),
    (PipelineError, 500, "pipeline_failed"),
]

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)
# an absolute path of two or more segments, unless it is one of our own routes
_PATH = re.compile(r"(?<![\w/.:])(?!/(?:api|ws|healthz|assets|jobs)\b)/(?:[^\s'\"/:,;()]+/)+[^\s'\"/:,;()]*")
_CLASS = re.compile(r"\b(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout)\b:?\s*")


def public(text: str) -> str:
    """``text`` fit for a client: no internal URL, no server path, no exception class name."""
    text = _URL.sub("(internal address)", text)
    text = _PATH.sub("(server path)", text)
    return _CLASS.sub("", text).strip() or "error"


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
    body: dict[str, Any] = {"type": "about:blank", "title": problem.title, "status": problem.status,
                            "detail": public(problem.detail)}  # fmt: skip
    body.update(problem.extra)
    if isinstance(body.get("errors"), list):
        body["errors"] = [{**e, "msg": public(str(e.get("msg", "")))} for e in body["errors"] if isinstance(e, dict)]
    return JSONResponse(
        body, status_code=problem.status, headers=problem.headers, media_type="application/problem+json"
    )


def from_pipeline(exc: PipelineError) -> Problem:
    status, code = next((status, code) for cls, status, code in PIPELINE_STATUS if isinstance(exc, cls))
    return Problem(status, str(exc), error=code, stage=exc.stage)


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

    async def on_redis(_: Request, exc: Exception) -> JSONResponse:
        log.warning("Redis: %s: %s", type(exc).__name__, exc)
        return problem_response(Problem(503, "the job store is unavailable: try again shortly"))

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(Problem(500, "internal error (the server's log has the details)"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(PipelineError, on_pipeline)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RedisError, on_redis)
    app.add_exception_handler(Exception, on_unexpected)
