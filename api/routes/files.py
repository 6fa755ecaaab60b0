"""Clip metadata and files, the final video (Range requests, or a signed URL on S3; ``?format=mov`` remux). Every
key is derived from a validated job id and our own records (api/jobfiles.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from uuid import uuid4

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from api.deps import Auth, JobId, SettingsDep, StorageDep
from api.errors import Problem
from api.jobfiles import clip_results, media_response
from api.schemas import ClipInfo, ClipList
from core.media import run_ffmpeg
from core.settings import Settings
from core.storage import JobKeys

router = APIRouter(prefix="/api/jobs", tags=["files"], dependencies=[Auth])


@router.get("/{job_id}/clips")
async def list_clips(job_id: JobId, storage: StorageDep) -> ClipList:
    clips, complete = await anyio.to_thread.run_sync(clip_results, storage, job_id)
    return ClipList(
        job_id=job_id,
        complete=complete,
        clips=[
            ClipInfo(
                **c.model_dump(
                    include={"index", "status", "duration", "target_duration", "width", "height", "fps", "cost"}
                ),
                provider=c.provider,
                error=c.error,
                consistency=c.consistency,
                url=f"/api/jobs/{job_id}/clips/{c.index}" if c.uri else None,
            )
            for c in clips
        ],
    )


@router.get("/{job_id}/clips/{index}", response_class=FileResponse)
async def clip_file(job_id: JobId, index: int, storage: StorageDep) -> Response:
    clips, _ = await anyio.to_thread.run_sync(clip_results, storage, job_id)
    clip = next((c for c in clips if c.index == index and c.uri), None)
    if clip is None or clip.uri is None:
        raise Problem(404, f"job {job_id} has no clip {index} (yet)")
    uri = clip.uri
    return await anyio.to_thread.run_sync(
        lambda: media_response(uri, media_type="video/mp4", filename=f"{job_id}-clip{index:03d}.mp4", storage=storage)
    )


def _remux_mov(mp4: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    mov = folder / "final.mov"
    if not mov.is_file() or mov.stat().st_mtime < mp4.stat().st_mtime:
        tmp = mov.with_name(f".{uuid4().hex}.mov")
        try:
            run_ffmpeg(["-i", str(mp4), "-map", "0", "-c", "copy", "-f", "mov", str(tmp)], what="MOV remux")
            os.replace(tmp, mov)
        finally:
            tmp.unlink(missing_ok=True)
    return mov


@router.get("/{job_id}/video", response_class=FileResponse)
async def video(
    job_id: JobId, storage: StorageDep, settings: SettingsDep, format: Literal["mp4", "mov"] = "mp4"
) -> Response:
    """The final MP4 (local: served here with Range support; S3: a redirect to a signed URL), or a MOV remux."""
    key = JobKeys(job_id).final("final.mp4")
    if not await anyio.to_thread.run_sync(storage.exists, key):
        raise Problem(409, f"the video of job {job_id} is not ready")
    if format == "mov":
        path = await anyio.to_thread.run_sync(_remux_mov, storage.local_path(key), _mov_dir(settings, job_id))
        return FileResponse(path, media_type="video/quicktime", filename=f"{job_id}.mov")
    return await anyio.to_thread.run_sync(
        lambda: media_response(storage.uri(key), media_type="video/mp4", filename=f"{job_id}.mp4", storage=storage)
    )


@router.get("/{job_id}/captions.vtt")
async def captions_vtt(job_id: JobId, storage: StorageDep) -> Response:
    """The lyrics as WebVTT (the web player's ``<track>``); 404 when the job has no captions (instrumental)."""
    key = JobKeys(job_id).final("final.vtt")
    if not await anyio.to_thread.run_sync(storage.exists, key):
        raise Problem(404, f"job {job_id} has no captions (not finished, no lyrics, or captions off)")
    return await anyio.to_thread.run_sync(
        lambda: media_response(storage.uri(key), media_type="text/vtt", filename=f"{job_id}.vtt", storage=storage)
    )


def _mov_dir(settings: Settings, job_id: str) -> Path:
    """MOV remuxes are the API's own cache, not job storage (cheap to redo: a stream copy)."""
    folder: Path = settings.cache_dir / "mov" / job_id
    return folder
