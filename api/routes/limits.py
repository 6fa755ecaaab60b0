"""GET /api/limits: what a job may ask for (core.limits, from the settings), so the web UI never hard-codes it."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SettingsDep
from core.limits import Limits, limits_of

router = APIRouter(prefix="/api", tags=["limits"])


@router.get("/limits")
async def get_limits(settings: SettingsDep) -> Limits:
    return limits_of(settings)
