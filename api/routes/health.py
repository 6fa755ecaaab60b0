"""GET /healthz: whether a job posted now would run (Prefect, Redis, the deployment served). The reasons of a
failing check are plain words, and only for callers with the token (when one is set)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import SettingsDep, StoreDep, bearer, token_ok
from api.runs import deployment_served, prefect_healthy
from api.schemas import Health

router = APIRouter(tags=["health"])
log = logging.getLogger("videogen.api")


async def _redis(store: StoreDep) -> str | None:
    try:
        await asyncio.wait_for(store.redis.ping(), timeout=2)
    except Exception as exc:
        log.warning("healthz: Redis: %s: %s", type(exc).__name__, exc)
        return "cannot reach Redis"
    return None


async def _within(coro: object, seconds: float, what: str) -> str | None:
    try:
        return await asyncio.wait_for(coro, timeout=seconds)  # type: ignore[arg-type]
    except TimeoutError:
        return f"{what} did not answer within {seconds:g} s"


@router.get("/healthz", response_model=Health)
async def healthz(request: Request, store: StoreDep, settings: SettingsDep) -> JSONResponse:
    prefect_err, redis_err, deployment_err = await asyncio.gather(
        _within(prefect_healthy(), 5, "Prefect"),
        _redis(store),
        _within(deployment_served(settings.api.deployment), 5, "Prefect"),
    )
    checks = (("prefect", prefect_err), ("redis", redis_err), ("deployment", deployment_err))
    details = {k: v for k, v in checks if v}
    authorised = token_ok(settings, bearer(request.headers.get("authorization")))
    health = Health(
        status="ok" if not details else "degraded",
        prefect=prefect_err is None,
        redis=redis_err is None,
        deployment=deployment_err is None,
        details=details if authorised else {},
    )
    return JSONResponse(health.model_dump(), status_code=200 if not details else 503)
