"""The web UI (``web/dist``, built by ``make web``) at ``/``: its files, and ``index.html`` for every other path
that is not the API's, so a job page like ``/jobs/<id>`` survives a reload."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
_API_PREFIXES = ("api/", "ws/", "healthz", "docs", "redoc", "openapi.json")


def mount(app: FastAPI, dist: Path = DIST) -> None:
    """Register last: a GET catch-all that serves a built file when one matches, else the app shell."""
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def site(path: str, request: Request) -> Response:
        if path.startswith(_API_PREFIXES):
            return JSONResponse({"title": "Not found", "status": 404, "detail": f"no route /{path}"}, status_code=404,
                                media_type="application/problem+json")  # fmt: skip
        index = root / "index.html"
        if not index.is_file():
            return PlainTextResponse("The web UI is not built: run `make web`.", status_code=404)
        try:  # a NUL byte or an over-long name is a file that does not exist, not a server error
            candidate = (root / path).resolve()
            found = bool(path) and candidate.is_relative_to(root) and candidate.is_file()
        except (ValueError, OSError):
            found = False
        if path.startswith("assets/") and not found:
            return JSONResponse({"title": "Not found", "status": 404, "detail": "no such asset"}, status_code=404,
                                media_type="application/problem+json")  # fmt: skip
        if found:
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
