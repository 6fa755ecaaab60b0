"""A job's status for the gateway: its events folded by ``core.progress`` (the one fold), plus the job's meta."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from api.schemas import JobStatus
from api.store import StoredEvent
from core.progress import JobFold, JobProgress

FAILED_FLOW_STATES = frozenset({"FAILED", "CRASHED", "CANCELLED"})


def with_meta(job_id: str, progress: JobProgress, meta: dict[str, str]) -> JobStatus:
    created = meta.get("created_at")
    return JobStatus(
        **progress.model_dump(),
        job_id=job_id,
        created_at=datetime.fromisoformat(created) if created else None,
        prompt=meta.get("prompt", ""),
        flow_run_id=meta.get("flow_run_id") or None,
        video_url=f"/api/jobs/{job_id}/video" if progress.status == "complete" else None,
        clips_url=f"/api/jobs/{job_id}/clips",
    )


def fold(job_id: str, events: Iterable[StoredEvent], meta: dict[str, str]) -> JobStatus:
    folder = JobFold()
    for stored in events:
        folder.apply(stored.event, stored.id)
    return with_meta(job_id, folder.snapshot(), meta)
