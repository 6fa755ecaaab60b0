"""Response models of the gateway (the request side is multipart, parsed in ``upload.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.contracts import ClipConsistency, ProgressEvent
from core.progress import JobProgress, JobStatusName


class JobCreated(BaseModel):
    job_id: str
    status: JobStatusName
    flow_run_id: str
    events_url: str
    status_url: str


class JobStatus(JobProgress):
    """A job's status: its folded events (``core.progress``) plus what the gateway knows of it."""

    job_id: str
    created_at: datetime | None = None
    prompt: str = ""
    flow_run_id: str | None = None
    flow_run_state: str | None = Field(None, description="the Prefect flow run's state name, when reachable")
    video_url: str | None = None
    clips_url: str


class JobUpdate(BaseModel):
    """One WebSocket message: an event and the job's status after it."""

    event: ProgressEvent
    status: JobStatus


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
    consistency: ClipConsistency | None = Field(None, description="look check; flagged clips are worth regenerating")


class ClipList(BaseModel):
    job_id: str
    complete: bool = Field(description="false while clips are still being generated")
    clips: list[ClipInfo]


class Health(BaseModel):
    """``ok`` means a job posted now will run: Prefect and Redis answer and something serves the deployment."""

    status: Literal["ok", "degraded"]
    prefect: bool
    redis: bool
    deployment: bool = Field(description="the deployment exists and a served process or worker polls it")
    details: dict[str, str] = Field(
        default_factory=dict, description="why each failing check failed; only with the token, when one is set"
    )


class Problem(BaseModel):
    """The body of every error response (RFC 9457, ``application/problem+json``; built in ``api/errors.py``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
