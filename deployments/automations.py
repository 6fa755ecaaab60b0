"""Prefect automations VideoGen relies on, created idempotently by ``videogen infra apply-automations``.

``videogen-crash-zombie-runs``: a flow run whose process died with its machine (a worker SIGKILLed, a container
evicted) reports nothing more and would look Running forever. Deployment runs emit a heartbeat event every
``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds (prefect.yaml sets 30 for the pool); when neither a heartbeat nor a
final state follows one within ``within`` seconds, the run is marked Crashed. Crashed runs can then be retried
(Prefect UI, ``prefect flow-run retry``, or the nightly ``batch-rerun``), reusing every finished stage.
(Prefect's guide "How to detect and respond to zombie flows".)
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

ZOMBIE_AUTOMATION = "videogen-crash-zombie-runs"
HEARTBEAT_SECONDS = 30  # prefect.yaml's PREFECT_FLOWS_HEARTBEAT_FREQUENCY for the pool (Prefect's minimum)


def zombie_automation(within: float = 3 * HEARTBEAT_SECONDS) -> Automation:
    if within <= HEARTBEAT_SECONDS:
        raise ValueError(f"within={within} s must exceed the {HEARTBEAT_SECONDS} s heartbeat, or live runs crash")
    return Automation(
        name=ZOMBIE_AUTOMATION,
        description="Mark flow runs Crashed when their heartbeats stop (the process died with its machine).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message="No heartbeat: the run's process is gone.")],
    )


def apply_automations(within: float = 3 * HEARTBEAT_SECONDS) -> list[Automation]:
    """Create the automations, replacing earlier versions of the same name (so changed settings take effect)."""
    wanted = [zombie_automation(within)]
    for automation in wanted:
        try:
            old: Automation | None = cast(Automation, Automation.read(name=automation.name))
        except ValueError:  # not there yet
            old = None
        if old is not None:
            old.delete()
        automation.create()
    return wanted
