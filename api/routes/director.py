"""Director mode (issue 14): the storyboard of a job in review, its approval, and a finished job's clip versions.

    GET  /api/jobs/{id}/storyboard                the stored storyboard (409 before planning is done)
    PUT  /api/jobs/{id}/storyboard                an edited storyboard: checked (422 naming the field, nothing
                                                  stored), stored with its new estimate; only while in review
    POST /api/jobs/{id}/storyboard/edits          {op: split|merge|lock|unlock, clip, at}: applied to the stored
                                                  storyboard and stored like a PUT
    POST /api/jobs/{id}/approve                   resumes the suspended run with the stored storyboard
    POST /api/jobs/{id}/clips/{n}/regenerate      {prompt, seed, variants}: a director-regenerate run
    GET  /api/jobs/{id}/clips/{n}/versions        the clip's versions (v0 is the first render)
    POST /api/jobs/{id}/clips/{n}/choose          {version}: a director-choose run (only the compose runs)

The checks are core's (``core.storyboard``); the runs are Prefect deployments served beside the render, so the
job's events, status and cost come from the same fold as the render's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import anyio
from fastapi import APIRouter
from fastapi.responses import Response
from prefect import aresume_flow_run
from pydantic import BaseModel, Field

from api.deps import Auth, JobId, SameSite, SettingsDep, StorageDep, StoreDep
from api.errors import Problem
from api.jobfiles import final_result, media_response, read_json
from api.routes.jobs import job_status
from api.runs import start_flow_run
from core.errors import StoryboardError
from core.storage import JobKeys, Storage
from core.storyboard import (
    CHOOSE_DEPLOYMENT,
    REGENERATE_DEPLOYMENT,
    STORYBOARD_RECORD,
    ClipVersions,
    Storyboard,
    StoryboardEdit,
    check,
    check_regenerate,
)

router = APIRouter(prefix="/api/jobs", tags=["director"], dependencies=[Auth])


class RegenerateRequest(BaseModel):
    prompt: str | None = Field(None, min_length=1, description="new prompt for the clip; its own when omitted")
    seed: int | None = Field(None, ge=0, description="seed of the first variant")
    variants: int = Field(1, description="separate generations (1 to the limit's max_variants)")


class ChooseRequest(BaseModel):
    version: int = Field(ge=0, description="0 is the first render")


class DirectorRun(BaseModel):
    job_id: str
    flow_run_id: str
    status_url: str


def _refused(exc: StoryboardError) -> Problem:
    return Problem(422, str(exc), errors=[{"loc": exc.field.replace("]", "").replace("[", ".").split("."),
                                           "msg": str(exc)}])  # fmt: skip


def _stored(storage: Storage, job_id: str) -> Storyboard | None:
    raw = read_json(storage, JobKeys(job_id).intermediate(STORYBOARD_RECORD))
    return Storyboard.model_validate_json(raw) if raw is not None else None


@router.get("/{job_id}/storyboard")
async def get_storyboard(job_id: JobId, storage: StorageDep) -> Storyboard:
    board = await anyio.to_thread.run_sync(_stored, storage, job_id)
    if board is None:
        raise Problem(409, f"job {job_id} has no storyboard yet (create it with review=true)")
    return board


@router.put("/{job_id}/storyboard", dependencies=[SameSite])
async def put_storyboard(
    job_id: JobId, board: Storyboard, store: StoreDep, storage: StorageDep, settings: SettingsDep
) -> Storyboard:
    return await _store_edit(job_id, lambda _: board, store, storage, settings)


@router.post("/{job_id}/storyboard/edits", dependencies=[SameSite])
async def edit_storyboard(
    job_id: JobId, edit: StoryboardEdit, store: StoreDep, storage: StorageDep, settings: SettingsDep
) -> Storyboard:
    return await _store_edit(job_id, edit.apply, store, storage, settings)


async def _store_edit(
    job_id: str, edit: Callable[[Storyboard], Storyboard], store: StoreDep, storage: Storage, settings: SettingsDep
) -> Storyboard:
    """``edit`` of the stored storyboard, checked against it (422 naming the field, nothing stored), then stored
    with its new estimate; only while the job is in review."""
    status = await job_status(store, job_id)
    if status.status != "awaiting_review":
        raise Problem(409, f"job {job_id} is not waiting for review (it is {status.status})")
    previous = await anyio.to_thread.run_sync(_stored, storage, job_id)
    if previous is None:
        raise Problem(409, f"job {job_id} has no storyboard yet")
    try:
        checked = check(edit(previous), settings, previous)
    except StoryboardError as exc:
        raise _refused(exc) from None
    key = JobKeys(job_id).intermediate(STORYBOARD_RECORD)
    await anyio.to_thread.run_sync(storage.put_bytes, key, checked.model_dump_json(indent=2).encode(), "intermediate")
    return checked


@router.post("/{job_id}/approve", dependencies=[SameSite])
async def approve(job_id: JobId, store: StoreDep, storage: StorageDep) -> DirectorRun:
    status = await job_status(store, job_id)
    if status.status != "awaiting_review" or not status.flow_run_id:
        raise Problem(409, f"job {job_id} is not waiting for review (it is {status.status})")
    board = await anyio.to_thread.run_sync(_stored, storage, job_id)
    run_input: dict[str, Any] = {"storyboard": board.model_dump(mode="json") if board else None}
    try:
        await aresume_flow_run(UUID(status.flow_run_id), run_input=run_input)
    except Exception as exc:  # the run is no longer paused (approved twice, timed out) or Prefect is down
        raise Problem(409, f"job {job_id} could not be resumed: {exc}") from None
    return DirectorRun(job_id=job_id, flow_run_id=status.flow_run_id, status_url=f"/api/jobs/{job_id}")


async def _finished(store: StoreDep, storage: Storage, job_id: str) -> int:
    """The clip count of a finished job; 409 while it runs or before it rendered."""
    status = await job_status(store, job_id)
    if status.status in ("queued", "processing", "awaiting_review"):
        raise _refused(StoryboardError("job", "the job is still running; regenerate once it is done"))
    result = await anyio.to_thread.run_sync(final_result, storage, job_id)
    if result is None:
        raise Problem(409, f"job {job_id} has no finished render")
    return len(result.clips)


@router.post("/{job_id}/clips/{index}/regenerate", dependencies=[SameSite])
async def regenerate(
    job_id: JobId, index: int, body: RegenerateRequest, store: StoreDep, storage: StorageDep, settings: SettingsDep
) -> DirectorRun:
    count = await _finished(store, storage, job_id)
    board = await anyio.to_thread.run_sync(_stored, storage, job_id)
    locked = bool(board and 0 <= index < len(board.clips) and board.clips[index].locked)
    try:
        check_regenerate(count, index, body.variants, settings, locked=locked)
    except StoryboardError as exc:
        raise _refused(exc) from None
    params = {"job_id": job_id, "clip": index, **body.model_dump()}
    run_id = await start_flow_run(REGENERATE_DEPLOYMENT, job_id, params, idempotent=False)
    return DirectorRun(job_id=job_id, flow_run_id=run_id, status_url=f"/api/jobs/{job_id}")


@router.get("/{job_id}/clips/{index}/versions")
async def versions(job_id: JobId, index: int, storage: StorageDep) -> ClipVersions:
    raw = await anyio.to_thread.run_sync(read_json, storage, JobKeys(job_id).clip_versions(index))
    if raw is None:
        raise Problem(404, f"clip {index} of job {job_id} has not been regenerated")
    return ClipVersions.model_validate_json(raw)


@router.post("/{job_id}/clips/{index}/choose", dependencies=[SameSite])
async def choose(job_id: JobId, index: int, body: ChooseRequest, store: StoreDep, storage: StorageDep) -> DirectorRun:
    count = await _finished(store, storage, job_id)
    if not 0 <= index < count:
        raise _refused(StoryboardError("clip", f"no clip {index}: the video has clips 0-{count - 1}"))
    raw = await anyio.to_thread.run_sync(read_json, storage, JobKeys(job_id).clip_versions(index))
    try:
        if raw is None:
            raise StoryboardError("version", f"clip {index} has no versions yet: regenerate it first")
        ClipVersions.model_validate_json(raw).get(body.version)
    except StoryboardError as exc:
        raise _refused(exc) from None
    params = {"job_id": job_id, "clip": index, "version": body.version}
    run_id = await start_flow_run(CHOOSE_DEPLOYMENT, job_id, params, idempotent=False)
    return DirectorRun(job_id=job_id, flow_run_id=run_id, status_url=f"/api/jobs/{job_id}")


@router.get("/{job_id}/clips/{index}/versions/{version}")
async def version_file(job_id: JobId, index: int, version: int, storage: StorageDep) -> Response:
    """One version's MP4 (for the variants side by side)."""
    key = JobKeys(job_id).clip_version(index, version)
    return media_response(storage.uri(key), media_type="video/mp4", filename=f"clip-{index}-v{version}.mp4",
                          storage=storage)  # fmt: skip
