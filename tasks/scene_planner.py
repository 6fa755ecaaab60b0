"""PRD module 4 as a Prefect task."""

from __future__ import annotations

from typing import Any

from prefect.context import TaskRunContext

from core.contracts import AudioAnalysis, JobRequest, VideoPlan
from core.errors import PlanningError
from core.settings import get_settings
from providers.base import ScenePlanner
from providers.registry import provider_of
from tasks.common import content_key, provider_call, report, stage_task


def _planner() -> ScenePlanner:
    return provider_of(ScenePlanner)


def plan_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    analysis: AudioAnalysis = params["analysis"]
    request: JobRequest = params["request"]
    return content_key(
        "plan",
        analysis.model_dump(mode="json", exclude={"source"}),  # content, not where the file happened to be
        request.model_dump(mode="json", exclude={"audio_uri", "aspect"}),  # format-free: one storyboard, any format
        _planner().cache_identity(),
        get_settings().render.crossfade,
        get_settings().render.fade,
    )


@stage_task("plan", cache_key_fn=plan_key)
def plan_scenes(job_id: str, request: JobRequest, analysis: AudioAnalysis) -> VideoPlan:
    report(job_id, "plan", "running", 10, "Planning characters, scenes and shots")
    planner = _planner()
    with provider_call(job_id, planner):
        plan = planner.plan(request, analysis)
    try:
        plan.check_against(analysis.boundaries)
    except ValueError as exc:
        raise PlanningError(f"plan does not match the beat boundaries: {exc}") from exc
    kinds = ", ".join(f"{k} {sum(t.kind == k for t in plan.transitions)}" for k in ("cut", "crossfade", "fade"))
    report(
        job_id,
        "plan",
        "completed",
        100,
        f"{len(plan.clips)} shots in {len(plan.scenes)} scenes; transitions: {kinds}",
        cost=plan.cost,
    )
    return plan
