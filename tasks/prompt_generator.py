"""PRD module 6 as a Prefect task, mapped over the clips."""

from __future__ import annotations

from typing import Any

from prefect.context import TaskRunContext

from core.contracts import AudioAnalysis, ClipPrompt, ClipScript, ReferenceImage, VideoPlan
from core.prompts import build_prompt, frame_for, with_references
from core.timeline import Aspect
from providers.base import PromptWriter
from providers.registry import provider_of
from tasks.common import content_key, provider_call, report, stage_task


def _writer() -> PromptWriter:
    return provider_of(PromptWriter)


def prompt_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    plan: VideoPlan = params["plan"]
    clip: ClipScript = params["clip"]
    return content_key(
        "prompt",
        plan,
        clip.index,
        # the image's identity, not where it is stored: a job reusing another's reference gets its own copy
        params["reference"].model_dump(mode="json", exclude={"uri"}),
        _writer().cache_identity(),
        params.get("aspect", "16:9"),
    )


@stage_task("prompts", cache_key_fn=prompt_key, run_name="-{clip.index}")
def write_prompt(
    job_id: str,
    clip: ClipScript,
    plan: VideoPlan,
    reference: ReferenceImage,
    analysis: AudioAnalysis,
    aspect: Aspect = "16:9",
) -> ClipPrompt:
    writer = _writer()
    with provider_call(job_id, writer):
        prompt = frame_for(writer.write(plan, clip, reference=reference, audio=analysis), aspect)
    prompt = with_references(prompt, clip, reference)
    report(
        job_id,
        "prompts",
        "running",
        100,
        f"Prompt {clip.index + 1}/{len(plan.clips)} written",
        clip_index=clip.index,
        clip_count=len(plan.clips),
        cost=prompt.cost,
    )
    return prompt


def template_prompt(plan: VideoPlan, clip: ClipScript, reference: ReferenceImage, aspect: Aspect) -> ClipPrompt:
    """The fallback when the configured writer has failed for good: the offline template (free, deterministic)."""
    return with_references(frame_for(build_prompt(plan, clip, reference=reference), aspect), clip, reference)
