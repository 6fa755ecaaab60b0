"""The API's only Prefect calls: start a flow run of the deployment, read a run's state, health."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.deployments import arun_deployment
from prefect.exceptions import ObjectNotFound

from api.errors import Problem

log = logging.getLogger("videogen.api")


def job_tag(job_id: str) -> str:
    """Carried by the flow run and (as a related resource) by every event of the job: the bridge keys on it."""
    return f"videogen-job-{job_id}"


async def start_flow_run(deployment: str, job_id: str, parameters: dict[str, Any]) -> str:
    """Create a flow run of ``deployment`` and return at once (timeout=0): a worker/served process executes it."""
    try:
        run = await arun_deployment(
            deployment,
            parameters=parameters,
            timeout=0,
            tags=["videogen", job_tag(job_id)],
            flow_run_name=f"job-{job_id}",
            idempotency_key=job_id,
            as_subflow=False,
        )
    except ObjectNotFound:
        raise Problem(
            503, f"the Prefect deployment {deployment!r} is not registered (is the worker running?)"
        ) from None
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
    """None when healthy, else the reason (plain words: the exception goes to the log)."""
    try:
        async with get_client() as client:
            exc = await client.api_healthcheck()
    except Exception as err:
        exc = err
    if exc is None:
        return None
    log.warning("healthz: Prefect: %s: %s", type(exc).__name__, exc)
    return "cannot reach the Prefect server"


async def deployment_served(deployment: str) -> str | None:
    """None when ``deployment`` exists and a served process or worker polls it (Prefect's READY), else why not."""
    try:
        async with get_client() as client:
            dep = await client.read_deployment_by_name(deployment)
    except ObjectNotFound:
        return f"the deployment {deployment} is not registered"
    except Exception as exc:
        log.warning("healthz: deployment: %s: %s", type(exc).__name__, exc)
        return "cannot read the deployment from Prefect"
    status = getattr(dep, "status", None)
    value = getattr(status, "value", status)
    if value is not None and str(value).upper() != "READY":
        return f"nothing polls the deployment {deployment} (no served process or worker)"
    return None
