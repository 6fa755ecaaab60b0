"""The API's only Prefect calls: start a flow run of the deployment, read a run's state, health (the server's, and
whether the deployment is served)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import DeploymentStatus, WorkPoolStatus
from prefect.deployments import arun_deployment
from prefect.exceptions import ObjectNotFound

from api.errors import Problem
from core.progress import job_tag

# Prefect's own default for marking a deployment NOT_READY (foreman: deployment_last_polled_timeout_seconds). A
# runner or worker polls every 10-15 s; a server restarted after the worker stopped still says READY until then.
POLL_STALE_AFTER = timedelta(seconds=60)
log = logging.getLogger("videogen.api")


def _not_registered(deployment: str) -> str:
    return f"the Prefect deployment {deployment!r} is not registered (is the worker running?)"


async def start_flow_run(deployment: str, job_id: str, parameters: dict[str, Any], *, idempotent: bool = True) -> str:
    """Create a flow run of ``deployment`` and return at once (timeout=0): a worker/served process executes it.
    ``idempotent``: one run per job (the render); director runs are many per job."""
    try:
        run = await arun_deployment(
            deployment,
            parameters=parameters,
            timeout=0,
            tags=["videogen", job_tag(job_id)],
            flow_run_name=f"job-{job_id}",
            idempotency_key=job_id if idempotent else None,
            as_subflow=False,
        )
    except ObjectNotFound:
        raise Problem(503, _not_registered(deployment)) from None
    except Exception as exc:  # httpx errors, Prefect server down, Prefect refusing the run
        log.warning("job %s: cannot create the flow run: %s: %s", job_id, type(exc).__name__, exc)
        raise Problem(503, "the orchestrator could not start the job; nothing was started: try again later") from None
    return str(run.id)


async def flow_run_state(flow_run_id: str) -> tuple[str, str, str] | None:
    """(type, name, message) of the flow run's state, or None if Prefect cannot be asked."""
    try:
        async with get_client() as client:
            run = await client.read_flow_run(UUID(flow_run_id))
    except Exception:
        return None
    if run.state is None:
        return None
    return run.state.type.value, run.state.name or "", run.state.message or ""


async def prefect_healthy() -> str | None:
    """None when healthy, else the reason."""
    try:
        async with get_client() as client:
            exc = await client.api_healthcheck()
    except Exception as err:
        exc = err
    if exc is None:
        return None
    log.warning("healthz: Prefect: %s: %s", type(exc).__name__, exc)
    return "cannot reach the Prefect server"


async def deployment_unserved(deployment: str) -> str | None:
    """None when a flow run of ``deployment`` created now would be picked up, else the reason.

    Picked up means: the deployment exists and, lately, a process serving it (``.serve()``) or a worker of its work
    pool polled for its runs; a pool must also be ready (an online worker, not paused)."""
    try:
        async with get_client() as client:
            try:
                found = await client.read_deployment_by_name(deployment)
            except ObjectNotFound:
                return _not_registered(deployment)
            pool = await client.read_work_pool(found.work_pool_name) if found.work_pool_name else None
    except Exception as err:
        log.warning("healthz: deployment: %s: %s", type(err).__name__, err)
        return "cannot read the deployment from Prefect"
    polled = found.last_polled
    if found.status != DeploymentStatus.READY or polled is None or polled < datetime.now(UTC) - POLL_STALE_AFTER:
        return (
            f"nothing serves the Prefect deployment {deployment!r}: no served process or worker polled it in the "
            f"last {POLL_STALE_AFTER.total_seconds():.0f} s"
        )
    if pool is not None and pool.status != WorkPoolStatus.READY:
        state = "paused" if pool.is_paused else "without an online worker"
        return f"the work pool {pool.name!r} of the Prefect deployment {deployment!r} is {state}"
    return None
