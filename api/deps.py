"""Dependencies as ``Annotated`` aliases: settings, the job store, the job storage, auth, validated job ids."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import Depends, Path, Request, WebSocket
from starlette.requests import HTTPConnection

from api.errors import Problem, Unauthorized
from api.store import JobStore
from core.settings import Settings
from core.storage import Storage


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_storage_dep(request: Request) -> Storage:
    """The job storage of the app's own settings (not the process's global ones)."""
    storage: Storage = request.app.state.storage
    return storage


def get_store(request: Request) -> JobStore:
    store: JobStore = request.app.state.store
    return store


def token_ok(settings: Settings, presented: str | None) -> bool:
    """Constant-time comparison of bytes: ``compare_digest`` on str refuses non-ASCII text (a 500, not a 401)."""
    expected = settings.api.token
    if expected is None:
        return True
    if presented is None:
        return False
    return secrets.compare_digest(presented.encode("utf-8", "surrogateescape"), expected.get_secret_value().encode())


def bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def require_token(request: Request) -> None:
    if not token_ok(request.app.state.settings, bearer(request.headers.get("authorization"))):
        raise Unauthorized()


def ws_token_ok(websocket: WebSocket) -> bool:
    """Browsers cannot set headers on a WebSocket: besides the Authorization header, accept the token as the
    subprotocol pair ``bearer, <token>`` (kept out of URLs and logs) or as ``?token=`` (redacted in the access log)."""
    protocols: list[str] = websocket.scope.get("subprotocols", [])
    from_protocol = protocols[protocols.index("bearer") + 1] if "bearer" in protocols[:-1] else None
    presented = bearer(websocket.headers.get("authorization")) or from_protocol or websocket.query_params.get("token")
    return token_ok(websocket.app.state.settings, presented)


def origin_ok(conn: HTTPConnection) -> bool:
    """A browser's cross-site request may create jobs or open sockets only from an allowed origin
    (``VIDEOGEN_API__CORS_ORIGINS``) or the API's own (the web UI it serves). No Origin header: not a browser."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    allowed: list[str] = conn.app.state.settings.api.cors_origins
    if origin in allowed or "*" in allowed:
        return True
    return origin != "null" and urlsplit(origin).netloc == conn.headers.get("host", "")


def require_origin(request: Request) -> None:
    if not origin_ok(request):
        raise Problem(403, "this origin may not create jobs (see VIDEOGEN_API__CORS_ORIGINS)", title="Forbidden")


async def existing_job(request: Request, job_id: Annotated[UUID, Path()]) -> str:
    jid = str(job_id)
    if await get_store(request).meta(jid) is None:
        raise Problem(404, f"no job {jid}")
    return jid


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[JobStore, Depends(get_store)]
StorageDep = Annotated[Storage, Depends(get_storage_dep)]
JobId = Annotated[str, Depends(existing_job)]
Auth = Depends(require_token)
SameSite = Depends(require_origin)
