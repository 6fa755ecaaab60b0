"""The app factory: ``uvicorn --factory api.main:create_app``. Import has no side effects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import Redis

from api import errors
from api.routes import artifacts, files, health, jobs, limits, site, ws
from api.schemas import Problem as ProblemBody
from api.store import JobStore
from core.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # XREAD BLOCK waits up to 15 s: the socket timeout must outlast it
        redis = Redis.from_url(settings.api.redis_url, socket_timeout=60, socket_connect_timeout=5)
        app.state.store = JobStore(redis, ttl_seconds=int(settings.api.event_ttl_hours * 3600))
        try:
            yield
        finally:
            await redis.aclose()

    problem = {"model": ProblemBody, "content": {"application/problem+json": {}}}
    app = FastAPI(title="VideoGen API", version="0.1.0", lifespan=lifespan,
                  responses={"4XX": problem, "5XX": problem})  # fmt: skip
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.api.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Range"],
        expose_headers=["Content-Range", "Accept-Ranges", "Content-Length"],
    )
    errors.install(app)
    for router in (jobs.router, files.router, artifacts.router, limits.router, ws.router, health.router):
        app.include_router(router)
    site.mount(app)  # the web UI at / (after every API route: it has the catch-all)
    return app
