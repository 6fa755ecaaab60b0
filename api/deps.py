"""Dependencies as ``Annotated`` aliases: settings, the job store, auth, validated job ids."""

from __future__ import annotations

import secrets
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Request, WebSocket

from api.errors import Problem, Unauthorized
from api.store import JobStore
from core.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> JobStore:
    store: JobStore = request.app.state.store
    return store


def token_ok(settings: Settings, presented: str | None) -> bool:
    expected = settings.api.token
    if expected is None:
        return True
    return presented is not None and secrets.compare_digest(presented, expected.get_secret_value())


def bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def require_token(request: Request) -> None:
    if not token_ok(request.app.state.settings, bearer(request.headers.get("authorization"))):
        raise Unauthorized()


def ws_token_ok(websocket: WebSocket) -> bool:
    """Browsers cannot set headers on a WebSocket: accept ``?token=`` as well as the Authorization header."""
    presented = bearer(websocket.headers.get("authorization")) or websocket.query_params.get("token")
    return token_ok(websocket.app.state.settings, presented)


async def existing_job(request: Request, job_id: Annotated[UUID, Path()]) -> str:
    jid = str(job_id)
    if await get_store(request).meta(jid) is None:
        raise Problem(404, f"no job {jid}")
    return jid


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[JobStore, Depends(get_store)]
JobId = Annotated[str, Depends(existing_job)]
Auth = Depends(require_token)
