"""GET /healthz: Prefect and Redis reachable."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StoreDep
from api.runs import prefect_healthy
from api.schemas import Health

router = APIRouter(tags=["health"])


async def _redis(store: StoreDep) -> str | None:
    try:
        await asyncio.wait_for(store.redis.ping(), timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@router.get("/healthz", response_model=Health)
async def healthz(store: StoreDep) -> JSONResponse:
    prefect_err, redis_err = await asyncio.gather(asyncio.wait_for(prefect_healthy(), timeout=5), _redis(store))
    details = {k: v for k, v in (("prefect", prefect_err), ("redis", redis_err)) if v}
    health = Health(
        status="ok" if not details else "degraded",
        prefect=prefect_err is None,
        redis=redis_err is None,
        details=details,
    )
    return JSONResponse(health.model_dump(), status_code=200 if not details else 503)
