"""The stage registry: the one list of the pipeline's stages, and everything each is called.

Every other place reads it: the Prefect task names (``tasks/``), the job-storage records (``JobKeys.stage``), the
events bridge (task run -> stage), the progress fold and its weights, the budget guard and the provider registry
(``provider_kind``), the operator artifacts, the CLI's display and the web UI (through the exported schema,
``python -m devtools.schema_export``). Adding a stage, or renaming its title, is an edit here and nowhere else.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StageId = Literal["audio", "plan", "reference", "prompts", "video", "compose"]
ProviderKind = Literal["transcription", "planner", "reference", "prompts", "video"]


class StageSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: StageId
    task_name: str = Field(description="the Prefect task (the PRD module); per-clip runs are named '<task>-<index>'")
    title: str = Field(description="what the CLI, the web UI and the artifacts call it")
    weight: float = Field(gt=0, description="share of a whole job, percent; the weights add up to 100")
    record: str | None = Field(None, description="its output's record under jobs/{id}/intermediate/, if any")
    output: str = Field(description="the contract it produces (core.contracts)")
    result_field: str = Field(description="where its output sits in JobResult")
    provider_kind: ProviderKind | None = Field(None, description="the provider seam it calls (VIDEOGEN_PROVIDERS__*)")
    per_clip: bool = Field(False, description="mapped over the clips: its progress is the share of clips finished")
    retries: int | None = Field(None, description="retries of transient errors; None: VIDEOGEN_RETRIES")


STAGES: tuple[StageSpec, ...] = (
    StageSpec(id="audio", task_name="audio_parser", title="Analysing audio", weight=8, record="analysis.json",
              output="AudioAnalysis", result_field="audio", provider_kind="transcription"),
    StageSpec(id="plan", task_name="scene_planner", title="Planning scenes", weight=2, record="plan.json",
              output="VideoPlan", result_field="plan", provider_kind="planner"),
    StageSpec(id="reference", task_name="reference_generator", title="Style reference", weight=3,
              record="reference.json", output="ReferenceImage", result_field="reference", provider_kind="reference",
              retries=2),
    StageSpec(id="prompts", task_name="prompt_generator", title="Writing prompts", weight=2, record="prompts.json",
              output="ClipPrompt", result_field="prompts", provider_kind="prompts", per_clip=True),
    StageSpec(id="video", task_name="video_generator", title="Generating clips", weight=75, output="ClipResult",
              result_field="clips", provider_kind="video", per_clip=True),
    StageSpec(id="compose", task_name="composer", title="Composing video", weight=10, output="CompositionResult",
              result_field="composition", retries=1),
)  # fmt: skip

STAGE_IDS: tuple[StageId, ...] = tuple(s.id for s in STAGES)
BY_ID: dict[str, StageSpec] = {s.id: s for s in STAGES}
BY_TASK: dict[str, StageSpec] = {s.task_name: s for s in STAGES}
PROVIDER_KINDS: tuple[ProviderKind, ...] = tuple(s.provider_kind for s in STAGES if s.provider_kind)


def stage(stage_id: str) -> StageSpec:
    """The spec of a stage id; KeyError names the known ones."""
    try:
        return BY_ID[stage_id]
    except KeyError:
        raise KeyError(f"unknown stage {stage_id!r} (stages: {', '.join(STAGE_IDS)})") from None


def stage_of_task(task_run_name: str) -> StageSpec | None:
    """The stage of a Prefect task run name (``video_generator-3`` -> video), None for other tasks."""
    return BY_TASK.get(task_run_name.split("-", 1)[0])
