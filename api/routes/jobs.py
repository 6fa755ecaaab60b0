"""POST /api/jobs, GET /api/jobs, GET /api/jobs/{id}."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import anyio
from fastapi import APIRouter, Request
from pydantic import ValidationError
from redis.exceptions import RedisError

from api.deps import Auth, JobId, SameSite, SettingsDep, StorageDep, StoreDep
from api.errors import Problem, public
from api.jobstate import FAILED_FLOW_STATES, crash_message, fold
from api.runs import flow_run_state, start_flow_run
from api.schemas import JobCreated, JobList, JobStatus
from api.store import JobStore
from api.upload import check_upload, read_job_form
from core import lyrics as lyrics_core
from core.contracts import JobRequest, ProgressEvent
from core.limits import CONTROL_CHARS, request_problems
from core.progress import JobError
from core.settings import Settings
from core.storage import JobKeys, Storage

START_TIMEOUT = 30.0  # seconds for Prefect to accept a flow run

log = logging.getLogger("videogen.api")
router = APIRouter(prefix="/api/jobs", tags=["jobs"], dependencies=[Auth])


TEXT_FIELDS = ("prompt", "style", "mood", "duration_hint", "aspect", "lyrics", "captions")


def _request(fields: dict[str, str], settings: Settings) -> JobRequest:
    if bad := [name for name in TEXT_FIELDS if CONTROL_CHARS.search(fields.get(name, ""))]:
        raise Problem(422, f"the {', '.join(bad)} field contains control characters (such as NUL): remove them",
                      errors=[{"loc": [name], "msg": "contains control characters"} for name in bad])  # fmt: skip
    prompt = fields.get("prompt", "").strip()
    if not prompt:
        raise Problem(422, "the 'prompt' field is required", errors=[{"loc": ["prompt"], "msg": "required"}])
    try:
        job = JobRequest(
            audio_uri="pending",
            prompt=prompt,
            style=fields.get("style") or None,
            mood=fields.get("mood") or None,
            duration_hint=fields.get("duration_hint") or None,  # pydantic parses the text
            aspect=fields.get("aspect") or "16:9",  # pydantic checks it: 422 names the formats
            lyrics=fields.get("lyrics") if (fields.get("lyrics") or "").strip() else None,
            captions=fields.get("captions") or None,  # pydantic checks the choice
        )
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise Problem(422, "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in errors), errors=errors) from None
    if problems := request_problems(job, settings):
        errors = [{"loc": [field], "msg": msg} for field, msg in problems]
        raise Problem(422, "; ".join(msg for _, msg in problems), errors=errors)
    return job


@router.post("", status_code=201, dependencies=[SameSite])
async def create_job(request: Request, settings: SettingsDep, store: StoreDep, storage: StorageDep) -> JobCreated:
    """Validate everything (fields, size while streaming, type from bytes, duration), store, start the flow run."""
    job_id = str(uuid4())
    job_dir = settings.jobs_dir / job_id
    upload = job_dir / "input" / "upload.part"
    try:
        form = await read_job_form(request, upload, max_bytes=int(settings.api.max_upload_mb * 1_000_000))
        if form.filename is None:
            raise Problem(422, "the 'audio' file is required", errors=[{"loc": ["audio"], "msg": "required"}])
        job = _request(form.fields, settings)
        review = form.fields.get("review", "").strip().lower() in ("1", "true", "on", "yes")  # director mode
        facts = await anyio.to_thread.run_sync(check_upload, upload, settings.audio)
        if job.lyrics:  # against the song's length (LRC times): a LyricsError is a 422 invalid_lyrics
            lyrics_core.parse(job.lyrics, duration=facts.duration)
        audio = upload.with_name(f"audio.{facts.format}")
        await anyio.to_thread.run_sync(upload.rename, audio)
        # into the job storage (jobs/{id}/input/): a no-op for local storage, an upload to the bucket on S3
        audio_uri = await anyio.to_thread.run_sync(storage.put_file, JobKeys(job_id).input(audio.name), audio, "input")
    except BaseException:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(job_dir, ignore_errors=True))
        raise
    if storage.scheme != "file":  # the bucket has it now; the API's disk is scratch
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(job_dir, ignore_errors=True))
    job = job.model_copy(update={"audio_uri": audio_uri})
    meta = {
        "job_id": job_id,
        "created_at": datetime.now(UTC).isoformat(),
        "prompt": job.prompt,
        "filename": (form.filename or "")[:200],
        "format": facts.format,
        "audio_duration": str(facts.duration),
    }
    queued = ProgressEvent(job_id=job_id, stage="job", status="queued", progress=0, message="Job queued")
    try:  # stored, then started; a failure at any step leaves no queued ghost and no files
        await store.create(job_id, meta)
        await store.append(queued, source_id="api:queued")
        flow_run_id = await asyncio.wait_for(
            start_flow_run(
                settings.api.deployment, job_id, {**job.model_dump(mode="json"), "job_id": job_id, "review": review}
            ),  # fmt: skip
            timeout=START_TIMEOUT,
        )
        await store.update_meta(job_id, flow_run_id=flow_run_id)
    except BaseException as exc:
        await asyncio.shield(_forget(store, storage, job_id, job_dir))
        if isinstance(exc, TimeoutError):
            raise Problem(503, "Prefect did not accept the job in time; nothing was started: try again") from None
        if isinstance(exc, RedisError):
            raise Problem(503, "the job store is unavailable; nothing was stored or started: try again") from None
        raise
    return JobCreated(
        job_id=job_id,
        status="queued",
        flow_run_id=flow_run_id,
        events_url=f"/ws/jobs/{job_id}",
        status_url=f"/api/jobs/{job_id}",
    )


async def _forget(store: JobStore, storage: Storage, job_id: str, job_dir: Path) -> None:
    """Undo a job that could not start: its scratch files, the song already in the job storage (on S3 the upload
    is in the bucket by now) and its Redis keys."""
    await anyio.to_thread.run_sync(lambda: shutil.rmtree(job_dir, ignore_errors=True))
    try:
        await anyio.to_thread.run_sync(storage.delete_prefix, JobKeys(job_id).prefix)
    except Exception:  # noqa: BLE001 - the caller's error is the one to answer; this one goes to the log
        log.exception("could not delete the stored files of job %s, which did not start", job_id)
    with contextlib.suppress(RedisError):  # Redis down: nothing was written there either
        await store.delete(job_id)


async def job_status(store: JobStore, job_id: str, *, ask_prefect: bool = True) -> JobStatus:
    meta = await store.meta(job_id) or {}
    status = fold(job_id, await store.history(job_id), meta)
    if not ask_prefect or status.status in ("complete", "error") or not status.flow_run_id:
        return status
    state = await flow_run_state(status.flow_run_id)
    if state is None:
        return status
    kind, name, message = state
    status.flow_run_state = name
    if kind in FAILED_FLOW_STATES:  # the flow died without reporting (e.g. worker killed) and the bridge lags
        status.status = "error"
        status.error = JobError(stage=status.stage, message=public(crash_message(kind, message)))
        status.message = status.error.message
    elif kind == "COMPLETED":  # the events are behind (bridge down): the run itself says the job is done
        status.status, status.progress, status.message = "complete", 100.0, "Video ready"
        status.video_url = f"/api/jobs/{job_id}/video"
    elif kind == "RUNNING" and status.status == "queued":
        status.status = "processing"
    return status


@router.get("")
async def list_jobs(store: StoreDep, limit: int = 50) -> JobList:
    ids = await store.recent(max(1, min(limit, 200)))
    jobs = await asyncio.gather(*(job_status(store, jid, ask_prefect=False) for jid in ids))
    return JobList(jobs=list(jobs))


@router.get("/{job_id}")
async def get_job(job_id: JobId, store: StoreDep) -> JobStatus:
    return await job_status(store, job_id)
