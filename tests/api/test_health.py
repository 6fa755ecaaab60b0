"""GET /healthz means "a job posted now will run" (issue 10): 503 until the deployment is served, 200 while a served
process polls it, 503 again once nothing does. Reasons only with the token.

Real redis-server, `prefect server start`, uvicorn and `python -m deployments.serve` on free loopback ports; Prefect's
foreman is sped up (1 s loop, NOT_READY after 5 s without a poll) so the last step takes seconds, not a minute.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType

from api.runs import start_flow_run
from deployments.wait import prefect_healthy
from devtools.stack import Stack, prefect_server_command, redis_server_command
from devtools.workers import prefect_server

TOKEN = "health-token"
DEPLOYMENT = "music-video/music-video"  # the API's default VIDEOGEN_API__DEPLOYMENT, what deployments.serve serves


@pytest.fixture
def unserved(tmp_path: Path) -> Iterator[Stack]:
    """Redis, Prefect and the API, but no served deployment yet."""
    s = Stack(
        tmp_path / "stack",
        env_extra={
            "VIDEOGEN_API__TOKEN": TOKEN,
            "PREFECT_SERVER_SERVICES_FOREMAN_LOOP_SECONDS": "1",
            "PREFECT_SERVER_SERVICES_FOREMAN_DEPLOYMENT_LAST_POLLED_TIMEOUT_SECONDS": "5",
        },
    )
    try:
        s.processes.spawn("redis", redis_server_command(s.redis_port), s.env())
        s.processes.spawn("prefect", prefect_server_command(s.prefect_port), s.env())
        s.processes.wait("prefect", lambda: prefect_healthy(s.prefect_api_url), 180)
        s.processes.spawn("api", [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
                                  "--host", "127.0.0.1", "--port", str(s.api_port), "--log-level", "warning"],
                          s.env())  # fmt: skip
        s.processes.wait("api", lambda: httpx.get(f"{s.api_url}/healthz", timeout=10).status_code in (200, 503), 60)
        yield s
    finally:
        s.stop()


def _health(stack: Stack, *, token: bool = True) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {TOKEN}"} if token else {}
    r = httpx.get(f"{stack.api_url}/healthz", headers=headers, timeout=15)
    return r.status_code, r.json()


def _until(stack: Stack, name: str, ok: Any, timeout: float) -> tuple[int, dict[str, Any]]:
    """Poll /healthz until ``ok(status, body)``, failing with the last answer and the process's log."""
    deadline = time.monotonic() + timeout
    while True:
        code, body = _health(stack)
        if ok(code, body):
            return code, body
        if time.monotonic() > deadline:
            pytest.fail(f"/healthz still {code} {body} after {timeout:.0f} s; {name} log:\n{stack.log(name)}")
        time.sleep(0.2)


async def _run_state(flow_run_id: str) -> StateType | None:
    async with get_client() as client:
        run = await client.read_flow_run(uuid.UUID(flow_run_id))
    return run.state.type if run.state else None


def test_healthz_is_ok_only_while_the_deployment_is_served(unserved: Stack) -> None:
    code, body = _health(unserved)
    assert code == 503, body
    assert body["prefect"] and body["redis"] and not body["deployment"], body
    assert "not registered" in body["details"]["deployment"], body
    code, anonymous = _health(unserved, token=False)
    assert code == 503 and anonymous["details"] == {}, anonymous  # reasons only with the token

    started = time.monotonic()
    unserved.processes.spawn("serve", [sys.executable, "-m", "deployments.serve"], unserved.env())
    # a client that waits for health and posts a job at once: the run must be created and picked up
    _until(unserved, "serve", lambda code, body: code == 200, 180)
    served_after = time.monotonic() - started
    job_id = str(uuid.uuid4())
    with prefect_server(unserved.prefect_api_url):
        # before issue 10 this raised Problem(503, "... is not registered"): health was 200 while serve started
        run_id = asyncio.run(
            start_flow_run(DEPLOYMENT, job_id, {"audio_uri": "file:///nonexistent/song.mp3", "prompt": "health"})
        )
        deadline = time.monotonic() + 60
        while (state := asyncio.run(_run_state(run_id))) in (StateType.SCHEDULED, None):
            assert time.monotonic() < deadline, f"the run stayed {state} for 60 s:\n{unserved.log('serve')}"
            time.sleep(0.5)
    assert _health(unserved, token=False) == (200, {"status": "ok", "prefect": True, "redis": True,
                                                 "deployment": True, "details": {}})  # fmt: skip

    unserved.kill("serve")
    _, body = _until(unserved, "prefect", lambda code, body: code == 503, 30)
    assert body["prefect"] and body["redis"] and not body["deployment"], body
    assert "nothing serves" in body["details"]["deployment"], body
    print(f"served (healthy) {served_after:.0f} s after `deployments.serve` started; first run {state.value}")
