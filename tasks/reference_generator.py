"""PRD module 5 as a Prefect task: one style image, cached by a hash of its description."""

from __future__ import annotations

from typing import Any

from prefect.context import TaskRunContext

from core.contracts import ReferenceImage, VideoPlan
from core.reference import describe
from core.settings import get_settings
from core.storage import JobKeys
from providers.base import ReferenceGenerator
from providers.registry import provider_of
from providers.storage import get_storage
from tasks.common import (
    cache_path,
    content_key,
    local_file,
    provider_call,
    report,
    run_cache_key,
    stage_task,
)


def _generator() -> ReferenceGenerator:
    return provider_of(ReferenceGenerator)


def reference_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    plan: VideoPlan = params["plan"]
    return content_key("reference", describe(plan.style), _generator().cache_identity())


@stage_task("reference", cache_key_fn=reference_key)
def generate_reference(job_id: str, plan: VideoPlan) -> ReferenceImage:
    report(job_id, "reference", "running", 10, "Painting the style reference")
    key = run_cache_key(lambda: reference_key(None, {"plan": plan}))
    generator = _generator()
    with provider_call(job_id, generator):
        image = generator.generate(plan, description=describe(plan.style), out=cache_path("reference", key, ".png"))
    if image.uri:  # the local painting -> the job's storage, where every worker can read it
        uri = get_storage().put_file(JobKeys(job_id).intermediate("reference.png"), local_file(image.uri),
                                     "intermediate")  # fmt: skip
        image = image.model_copy(update={"uri": uri})
    report(job_id, "reference", "completed", 100, f"Style reference ready ({image.provider})", cost=image.cost)
    return image


def no_reference(plan: VideoPlan, error: str) -> ReferenceImage:
    """PRD fallback: every retry failed, so the clips go text-only."""
    description = describe(plan.style)
    return ReferenceImage(
        uri=None,
        description=description,
        cache_key=content_key("reference", description),
        palette=plan.style.palette,
        provider=get_settings().providers.reference,
        status="failed",
        error=error,
    )
