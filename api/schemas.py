"""Response models of the gateway (the request side is multipart, parsed in ``upload.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

JobStatusName = Literal["queued", "processing", "complete", "error"]


class JobCreated(BaseModel):
    job_id: str
    status: JobStatusName
    flow_run_id: str
    events_url: str
    status_url: str


class JobError(BaseModel):
    stage: str | None = Field(None, description="the stage that failed, when known")
    message: str


class Cost(BaseModel):
    by_stage: dict[str, float] = Field(default_factory=dict)
    total: float = 0.0
    currency: Literal["USD"] = "USD"


class JobStatus(BaseModel):
    job_id: str
    status: JobStatusName
    progress: float = Field(0.0, description="percent of the whole job")
    stage: str | None = Field(None, description="the stage running now (or the last one)")
    stage_progress: float = Field(0.0, description="percent of the current stage")
    message: str = ""
    cost: Cost = Field(default_factory=Cost)
    error: JobError | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    prompt: str = ""
    flow_run_id: str | None = None
    flow_run_state: str | None = Field(None, description="the Prefect flow run's state name, when reachable")
    last_event_id: str | None = Field(None, description="id of the newest event; resume the WebSocket from it")
    video_url: str | None = None
    clips_url: str


class JobList(BaseModel):
    jobs: list[JobStatus]


class ClipInfo(BaseModel):
    index: int
    status: Literal["succeeded", "failed"]
    url: str | None = None
    duration: float = 0.0
    target_duration: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    provider: str = ""
    cost: float = 0.0
    error: str | None = None


class ClipList(BaseModel):
    job_id: str
    complete: bool = Field(description="false while clips are still being generated")
    clips: list[ClipInfo]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    prefect: bool
    redis: bool
    details: dict[str, str] = Field(default_factory=dict)
