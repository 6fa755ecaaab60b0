"""Clip metadata and files, the final video (Range requests; ``?format=mov`` remux). Every path is derived from
a validated job id and our own records, then checked to lie inside the data directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from uuid import uuid4

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import Auth, JobId, SettingsDep
from api.errors import Problem
from api.schemas import ClipInfo, ClipList
from core.contracts import ClipResult, JobResult
from core.media import run_ffmpeg
from core.settings import Settings
from core.uris import to_path

router = APIRouter(prefix="/api/jobs", tags=["files"], dependencies=[Auth])


def _inside(settings: Settings, path: Path) -> Path:
    root = settings.data_dir.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(root) or not resolved.is_file():
        raise Problem(404, "file not found")
    return resolved


def _clip_results(settings: Settings, job_id: str) -> tuple[list[ClipResult], bool]:
    final = settings.jobs_dir / job_id / "final" / "result.json"
    if final.is_file():
        return JobResult.model_validate_json(final.read_text()).clips, True
    folder = settings.jobs_dir / job_id / "clips"
    clips = [ClipResult.model_validate_json(p.read_text()) for p in sorted(folder.glob("clip-*.json"))]
    return clips, False


@router.get("/{job_id}/clips")
async def list_clips(job_id: JobId, settings: SettingsDep) -> ClipList:
    clips, complete = await anyio.to_thread.run_sync(_clip_results, settings, job_id)
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
                url=f"/api/jobs/{job_id}/clips/{c.index}" if c.uri else None,
            )
            for c in clips
        ],
    )


@router.get("/{job_id}/clips/{index}", response_class=FileResponse)
async def clip_file(job_id: JobId, index: int, settings: SettingsDep) -> FileResponse:
    clips, _ = await anyio.to_thread.run_sync(_clip_results, settings, job_id)
    clip = next((c for c in clips if c.index == index and c.uri), None)
    if clip is None or clip.uri is None:
        raise Problem(404, f"job {job_id} has no clip {index} (yet)")
    path = _inside(settings, to_path(clip.uri))
    return FileResponse(path, media_type="video/mp4", filename=f"{job_id}-clip{index:03d}.mp4")


def _remux_mov(mp4: Path) -> Path:
    mov = mp4.with_suffix(".mov")
    if not mov.is_file() or mov.stat().st_mtime < mp4.stat().st_mtime:
        tmp = mov.with_name(f".{uuid4().hex}.mov")
        try:
            run_ffmpeg(["-i", str(mp4), "-map", "0", "-c", "copy", "-f", "mov", str(tmp)], what="MOV remux")
            os.replace(tmp, mov)
        finally:
            tmp.unlink(missing_ok=True)
    return mov


@router.get("/{job_id}/video", response_class=FileResponse)
async def video(job_id: JobId, settings: SettingsDep, format: Literal["mp4", "mov"] = "mp4") -> FileResponse:
    mp4 = settings.jobs_dir / job_id / "final" / "final.mp4"
    if not mp4.is_file():
        raise Problem(409, f"the video of job {job_id} is not ready")
    path = _inside(settings, mp4)
    if format == "mov":
        path = await anyio.to_thread.run_sync(_remux_mov, path)
        return FileResponse(path, media_type="video/quicktime", filename=f"{job_id}.mov")
    return FileResponse(path, media_type="video/mp4", filename=f"{job_id}.mp4")
