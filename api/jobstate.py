"""Fold a job's event stream into its current status: the one place that interprets ProgressEvents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from api.schemas import Cost, JobError, JobStatus, JobStatusName
from api.store import StoredEvent
from core.contracts import STAGE_WEIGHTS

_STATUS: dict[str, JobStatusName] = {"queued": "queued", "complete": "complete", "error": "error"}
FAILED_FLOW_STATES = frozenset({"FAILED", "CRASHED", "CANCELLED"})


def fold(job_id: str, events: Iterable[StoredEvent], meta: dict[str, str]) -> JobStatus:
    status: JobStatusName = "queued"
    progress = 0.0
    stage: str | None = None
    stage_progress = 0.0
    message = ""
    stage_cost: dict[str, float] = {}
    clip_cost: dict[str, dict[int, float]] = {}
    failed: JobError | None = None
    error: JobError | None = None
    total: float | None = None
    updated: datetime | None = None
    last_id: str | None = None
    clips_done: dict[str, set[int]] = {}
    pending = 0.0  # progress of the running stage not yet counted in a job-level event
    for stored in events:
        ev = stored.event
        last_id, updated, message = stored.id, ev.timestamp, ev.message
        status = _STATUS.get(ev.status, "processing")
        if ev.stage == "job":
            progress, pending = max(progress, ev.progress), 0.0
            if ev.status == "complete":
                progress, total = 100.0, ev.cost
            elif ev.status == "error":
                error = JobError(stage=failed.stage if failed else stage, message=ev.message)
            continue
        stage, stage_progress = ev.stage, ev.progress
        if ev.clip_index is not None and ev.clip_count:  # per-clip events: the stage is the share of clips done
            done = clips_done.setdefault(ev.stage, set())
            if ev.progress >= 100 or ev.status == "failed":
                done.add(ev.clip_index)
            stage_progress = 100.0 * len(done) / ev.clip_count
        pending = stage_progress
        if ev.status == "failed" and ev.clip_index is None:
            failed = JobError(stage=ev.stage, message=ev.message)
        if ev.clip_index is not None:
            if ev.status != "failed":
                clip_cost.setdefault(ev.stage, {})[ev.clip_index] = ev.cost
        elif ev.status in ("completed", "cached") or ev.cost:
            stage_cost[ev.stage] = 0.0 if ev.status == "cached" else ev.cost
    if status == "processing" and stage is not None:  # between job events, count the running stage's share
        progress = min(99.0, progress + STAGE_WEIGHTS.get(stage, 0.0) * pending / 100)
    by_stage = {s: round(sum(c.values()), 4) for s, c in clip_cost.items()}
    by_stage.update({s: round(c, 4) for s, c in stage_cost.items()})
    created = meta.get("created_at")
    return JobStatus(
        job_id=job_id,
        status=status,
        progress=round(progress, 1),
        stage=stage,
        stage_progress=stage_progress,
        message=message,
        cost=Cost(by_stage=by_stage, total=round(total if total is not None else sum(by_stage.values()), 4)),
        error=error,
        created_at=datetime.fromisoformat(created) if created else None,
        updated_at=updated,
        prompt=meta.get("prompt", ""),
        flow_run_id=meta.get("flow_run_id") or None,
        last_event_id=last_id,
        video_url=f"/api/jobs/{job_id}/video" if status == "complete" else None,
        clips_url=f"/api/jobs/{job_id}/clips",
    )
