"""The app factory: ``uvicorn --factory api.main:create_app``. Import has no side effects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import BlockingConnectionPool, Redis

from api import errors
from api.hub import Hub
from api.logs import redact_access_log
from api.routes import artifacts, director, files, health, jobs, limits, site, ws
from api.schemas import Problem as ProblemBody
from api.store import JobStore
from core.settings import Settings, get_settings
from providers.storage import storage_for


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a bounded pool that makes a request wait for a connection (up to 5 s) rather than fail; nothing holds one
        # for long: the WebSockets' live reads share one connection of their own (api/hub.py)
        pool = BlockingConnectionPool.from_url(
            settings.api.redis_url, max_connections=settings.api.redis_max_connections, timeout=5,
            socket_timeout=10, socket_connect_timeout=3,
        )  # fmt: skip
        redis = Redis(connection_pool=pool)
        app.state.store = JobStore(redis, ttl_seconds=int(settings.api.event_ttl_hours * 3600))
        hub = app.state.hub = Hub(settings.api.redis_url, max_per_job=settings.api.ws_max_per_job,
                                  max_per_client=settings.api.ws_max_per_client)  # fmt: skip
        hub.start(redis)
        try:
            yield
        finally:
            await hub.stop()
            await redis.aclose()
            await pool.aclose()

    problem = {"model": ProblemBody, "content": {"application/problem+json": {}}}
    docs = settings.api.docs
    app = FastAPI(title="VideoGen API", version="0.1.0", lifespan=lifespan, responses={"4XX": problem, "5XX": problem},
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None)  # fmt: skip
    app.state.settings = settings
    app.state.storage = storage_for(settings)  # the routes' job storage: this app's settings, not the process's
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.api.cors_origins,
        allow_methods=["GET", "POST", "PUT", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Range"],
        expose_headers=["Content-Range", "Accept-Ranges", "Content-Length"],
    )
    errors.install(app)
    redact_access_log()
    for router in (
        jobs.router,
        director.router,
        files.router,
        artifacts.router,
        limits.router,
        ws.router,
        health.router,
    ):
        app.include_router(router)
    site.mount(app)  # the web UI at / (after every API route: it has the catch-all)
    return app
