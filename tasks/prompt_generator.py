"""PRD module 6 as a Prefect task, mapped over the clips."""

from __future__ import annotations

from typing import Any, cast

from prefect import task
from prefect.context import TaskRunContext

from core.contracts import AudioAnalysis, ClipPrompt, ClipScript, ReferenceImage, VideoPlan
from core.settings import get_settings
from providers.base import PromptWriter
from providers.registry import get_provider
from tasks.common import content_key, provider_call, report, retry_options


def _writer() -> PromptWriter:
    return cast(PromptWriter, get_provider("prompts", get_settings().providers.prompts))


def prompt_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    plan: VideoPlan = params["plan"]
    clip: ClipScript = params["clip"]
    analysis: AudioAnalysis = params["analysis"]
    return content_key(
        "prompt",
        plan,
        clip.index,
        # the image's identity, not where it is stored: a job reusing another's reference gets its own copy
        params["reference"].model_dump(mode="json", exclude={"uri"}),
        analysis.beats_between(clip.start, clip.end),
        _writer().cache_identity(),
    )


@task(
    name="prompt_generator",
    task_run_name="prompt_generator-{clip.index}",
    cache_key_fn=prompt_key,
    persist_result=True,
    **retry_options(),
)
def write_prompt(
    job_id: str, clip: ClipScript, plan: VideoPlan, reference: ReferenceImage, analysis: AudioAnalysis
) -> ClipPrompt:
    writer = _writer()
    with provider_call(job_id, writer):
        prompt = writer.write(plan, clip, reference=reference, audio=analysis)
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
