"""The production server configuration (infra/render.yaml `prefect-server`) on real processes: `prefect server start`
on PostgreSQL, with prefect-redis for messaging, the messaging cache, causal ordering and concurrency leases on a
real redis-server, serving the `videogen` process pool to a real worker that runs a flow run to Completed.

Then the backends are checked from their own side, not through Prefect: the flow run is a row in Postgres, the
events went over Redis streams (a subscriber connected before the run got its Completed event live, the streams
and consumer groups exist, and that event's deduplication and causal-ordering keys are in Redis), and the event was
persisted. Lease storage is configured but not exercised: prefect.yaml sets no concurrency limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import arun_deployment
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter

from devtools.databases import Postgres, RedisServer
from devtools.workers import PrefectPool, prefect_server

DEPLOYMENT = "batch-rerun/nightly-rerun"
#: Prefect's messaging on db 1, as in production (db 0 holds the API's job streams)
MESSAGING_DB = 1
TERMINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


def server_env(pg: Postgres, redis_server: RedisServer) -> dict[str, str]:
    """What the production server is configured with (names checked in prefect/settings/models/server and
    prefect_redis/client.py); a URL stands in for Render's PREFECT_SERVER_DATABASE_{DRIVER,HOST,...} parts."""
    return {
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": pg.url,
        "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
        "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
        "PREFECT_REDIS_MESSAGING_HOST": "127.0.0.1",
        "PREFECT_REDIS_MESSAGING_PORT": str(redis_server.port),
        "PREFECT_REDIS_MESSAGING_DB": str(MESSAGING_DB),
        # events reach Postgres within a second of being published, not five
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "1",
    }


@pytest.fixture(scope="module")
def backends(session_dir: Path) -> Iterator[tuple[Postgres, RedisServer]]:
    try:
        pg = Postgres(session_dir / "backends" / "postgres")
    except RuntimeError as exc:  # not installed: a failure that says `make install-postgres`, never a skip
        pytest.fail(str(exc))
    redis_server = RedisServer(session_dir / "backends" / "redis")
    try:
        yield pg.start(), redis_server.start()
    finally:
        redis_server.stop()
        pg.stop()


@pytest.fixture(scope="module")
def production_pool(session_dir: Path, backends: tuple[Postgres, RedisServer]) -> Iterator[PrefectPool]:
    """The server on Postgres + Redis, prefect.yaml deployed to the `videogen` pool, and one worker."""
    pool = PrefectPool(session_dir / "backends" / "prefect", env_extra=server_env(*backends))
    try:
        pool.start()
        pool.deploy_all()
        pool.start_worker("backends-worker")
        yield pool
    finally:
        pool.stop()


async def run_watched(deployment: str, parameters: dict[str, Any], timeout: float) -> tuple[FlowRun, list[Any]]:
    """Start a run of ``deployment`` with a live event subscriber already connected; return the run once it is
    final and the flow-run events the subscriber got for it."""
    async with get_client() as client:
        deployment_id = (await client.read_deployment_by_name(deployment)).id
    live = EventFilter(
        event=EventNameFilter(prefix=["prefect.flow-run."]),
        related=EventRelatedFilter(id=[f"prefect.deployment.{deployment_id}"]),
    )
    seen: list[Any] = []
    async with get_events_subscriber(filter=live) as subscriber, asyncio.timeout(timeout):
        run = await arun_deployment(deployment, parameters=parameters, timeout=0)  # run_deployment's async twin
        async for event in subscriber:
            if event.resource.id == f"prefect.flow-run.{run.id}":
                seen.append(event)
                if event.event.removeprefix("prefect.flow-run.").upper() in {s.value for s in TERMINAL}:
                    break
    async with get_client() as client:
        return await client.read_flow_run(run.id), seen


def persisted_events(api_url: str, flow_run_id: UUID, name: str, timeout: float = 20) -> list[dict[str, Any]]:
    """Events of ``flow_run_id`` named ``name`` as the server reads them back from its database."""
    query = {"filter": {"event": {"name": [name]}, "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]}}}
    deadline = time.monotonic() + timeout
    while True:
        found: list[dict[str, Any]] = httpx.post(f"{api_url}/events/filter", json=query, timeout=10).json()["events"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_flow_run_completes_on_postgres_with_redis_messaging(
    production_pool: PrefectPool, backends: tuple[Postgres, RedisServer]
) -> None:
    # Input: the cheap nightly batch as a dry run (reads the day's runs, writes an artifact, renders nothing).
    pg, redis_server = backends
    with prefect_server(production_pool.api_url):
        run, live = asyncio.run(run_watched(DEPLOYMENT, {"dry_run": True}, timeout=60))
    assert run.state is not None and run.state.type == StateType.COMPLETED, (
        f"{run.state}\n{production_pool.processes.log('backends-worker')}"
    )

    # The subscriber (connected before the run existed, so nothing was backfilled) got the run's events live:
    # the server's distributor reads them from the `events` Redis stream (XREAD, no consumer group).
    names = [event.event for event in live]
    assert {"prefect.flow-run.Running", "prefect.flow-run.Completed"} <= set(names), names
    completed = next(event for event in live if event.event == "prefect.flow-run.Completed")

    # Redis: the topics are streams with the server's consumer groups, and the Completed event passed through
    # prefect_redis's messaging cache (its deduplication key, kept 5 minutes).
    r = redis_server.client(MESSAGING_DB)
    assert r.type("events") == "stream" and r.xinfo_stream("events")["entries-added"] >= len(live)
    groups = {group["name"] for group in r.xinfo_groups("events")}
    assert {"event-persister", "reactive-triggers"} <= groups, groups
    assert r.exists(f"message:messaging-cache:{completed.id}") == 1
    assert r.exists(f"triggers:seen:{completed.id}") == 1  # prefect_redis.ordering, as the reactive triggers ran
    assert redis_server.client(0).dbsize() == 0  # nothing leaked into the API's db

    # The same event as the API reads it back once the event persister (a consumer group above) has written it.
    stored = persisted_events(production_pool.api_url, run.id, "prefect.flow-run.Completed")
    assert [e["id"] for e in stored] == [str(completed.id)]

    # Postgres, asked directly: the run in its final state, and its events.
    assert pg.psql(f"select state_type from flow_run where id = '{run.id}'") == "COMPLETED"
    assert pg.psql(f"select count(*) from events where id = '{completed.id}'") == "1"
