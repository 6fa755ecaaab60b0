"""What the web UI draws: the song's analysis, the storyboard (plan, style reference, clip prompts), the job's
budget and the composed video's sync report. Read-only. Each stage's output is read from the job storage,
``jobs/<id>/intermediate/<stage>.json`` when the flow has written it (while the job runs), else
``jobs/<id>/final/result.json`` (once complete); 409 until then."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, TypeAdapter

from api.deps import Auth, JobId, SettingsDep, StorageDep, StoreDep
from api.errors import Problem
from api.jobfiles import final_result, media_response, read_json
from core.contracts import AudioAnalysis, ClipPrompt, CompositionResult, JobResult, ReferenceImage, VideoPlan
from core.stages import STAGES
from core.stages import stage as stage_spec
from core.storage import JobKeys, Storage
from core.timeline import TIMELINE_RECORD, Timeline

router = APIRouter(prefix="/api/jobs", tags=["artifacts"], dependencies=[Auth])

#: how to parse each stage's record: the type of its JobResult field
_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    s.id: TypeAdapter(JobResult.model_fields[s.result_field].annotation or Any) for s in STAGES if s.record
}


class JobSummary(BaseModel):
    job_id: str
    filename: str = ""
    audio_duration: float | None = None
    budget_per_minute: float
    budget_total: float | None = None


class ReferenceInfo(BaseModel):
    reference: ReferenceImage
    image_url: str | None


def _load(storage: Storage, job_id: str, stage: str) -> Any:
    partial = read_json(storage, JobKeys(job_id).stage(stage))
    if partial is not None:
        return _ADAPTERS[stage].validate_json(partial)
    result = final_result(storage, job_id)
    if result is not None:
        return getattr(result, stage_spec(stage).result_field)
    raise Problem(409, f"the {stage} output of job {job_id} is not available yet")


async def _stage(storage: Storage, job_id: str, stage: str) -> Any:
    return await anyio.to_thread.run_sync(_load, storage, job_id, stage)


@router.get("/{job_id}/analysis")
async def analysis(job_id: JobId, storage: StorageDep) -> AudioAnalysis:
    result: AudioAnalysis = await _stage(storage, job_id, "audio")
    return result


@router.get("/{job_id}/plan")
async def plan(job_id: JobId, storage: StorageDep) -> VideoPlan:
    result: VideoPlan = await _stage(storage, job_id, "plan")
    return result


@router.get("/{job_id}/timeline")
async def timeline(job_id: JobId, storage: StorageDep) -> Timeline:
    """The clip slots (frames and seconds), transition windows and fades, once the plan is made."""

    def load() -> Timeline:
        partial = read_json(storage, JobKeys(job_id).intermediate(TIMELINE_RECORD))
        if partial is not None:
            return Timeline.model_validate_json(partial)
        result = final_result(storage, job_id)
        if result is not None:
            return result.timeline
        raise Problem(409, f"the timeline of job {job_id} is not available yet")

    return await anyio.to_thread.run_sync(load)


@router.get("/{job_id}/prompts")
async def prompts(job_id: JobId, storage: StorageDep) -> list[ClipPrompt]:
    result: list[ClipPrompt] = await _stage(storage, job_id, "prompts")
    return result


@router.get("/{job_id}/reference")
async def reference(job_id: JobId, storage: StorageDep) -> ReferenceInfo:
    ref: ReferenceImage = await _stage(storage, job_id, "reference")
    url = f"/api/jobs/{job_id}/reference.png" if ref.uri else None
    return ReferenceInfo(reference=ref, image_url=url)


@router.get("/{job_id}/reference.png", response_class=FileResponse)
async def reference_image(job_id: JobId, storage: StorageDep) -> Response:
    ref: ReferenceImage = await _stage(storage, job_id, "reference")
    if ref.uri is None:
        raise Problem(404, f"job {job_id} has no style reference image")
    uri = ref.uri
    return await anyio.to_thread.run_sync(
        lambda: media_response(uri, media_type="image/png", filename=f"{job_id}-reference.png", storage=storage)
    )


@router.get("/{job_id}/composition")
async def composition(job_id: JobId, storage: StorageDep) -> CompositionResult:
    """The composed video's facts and its sync report (every cut against the beats and onsets), once composed; a
    director's recompose replaces it."""

    def load() -> CompositionResult:
        result = final_result(storage, job_id)
        if result is None:
            raise Problem(409, f"job {job_id} has no composed video yet")
        return result.composition

    return await anyio.to_thread.run_sync(load)


@router.get("/{job_id}/summary")
async def summary(job_id: JobId, settings: SettingsDep, store: StoreDep) -> JobSummary:
    meta = await store.meta(job_id) or {}
    try:
        duration: float | None = float(meta.get("audio_duration", ""))
    except ValueError:
        duration = None
    per_minute = settings.budget.per_minute
    cap = settings.budget.hard_cap
    total = cap if cap is not None else (round(per_minute * duration / 60, 4) if duration else None)
    return JobSummary(
        job_id=job_id,
        filename=meta.get("filename", ""),
        audio_duration=duration,
        budget_per_minute=per_minute,
        budget_total=total,
    )
