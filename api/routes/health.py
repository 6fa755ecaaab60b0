"""GET /healthz: a job posted now would run (Prefect and Redis answer, something serves the deployment)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import SettingsDep, StoreDep, bearer, token_ok
from api.runs import deployment_unserved, prefect_healthy
from api.schemas import Health

router = APIRouter(tags=["health"])
log = logging.getLogger("videogen.api")


async def _within(check: Awaitable[str | None], seconds: float) -> str | None:
    """A check's reason, or a timeout as one: a hung dependency makes the API degraded, not a 500."""
    try:
        return await asyncio.wait_for(check, timeout=seconds)
    except TimeoutError:
        return f"no answer in {seconds:.0f} s"


async def _redis(store: StoreDep) -> str | None:
    try:
        await store.redis.ping()
    except Exception as exc:
        log.warning("healthz: Redis: %s: %s", type(exc).__name__, exc)
        return "cannot reach Redis"
    return None


@router.get("/healthz", response_model=Health)
async def healthz(request: Request, settings: SettingsDep, store: StoreDep) -> JSONResponse:
    prefect_err, redis_err, deployment_err = await asyncio.gather(
        _within(prefect_healthy(), 5),
        _within(_redis(store), 2),
        _within(deployment_unserved(settings.api.deployment), 5),
    )
    if prefect_err:  # the deployment check failed for the same reason: say it once
        deployment_err = deployment_err and "Prefect is unreachable"
    reasons = {k: v for k, v in (("prefect", prefect_err), ("redis", redis_err), ("deployment", deployment_err)) if v}
    # health is public (probes carry no token); the reasons name hosts and errors, so only the token holder sees them
    shown = reasons if token_ok(settings, bearer(request.headers.get("authorization"))) else {}
    health = Health(
        status="degraded" if reasons else "ok",
        prefect=prefect_err is None,
        redis=redis_err is None,
        deployment=deployment_err is None,
        details=shown,
    )
    return JSONResponse(health.model_dump(), status_code=503 if reasons else 200)


@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process answers: what a platform's restart check should probe (``/healthz`` says whether jobs run, and
    is degraded while no worker serves the deployment, which is no reason to restart the API)."""
    return {"status": "ok"}
