"""What a job's progress events mean: their names and resources, and the one fold of events into a job status.

    videogen.progress.<stage>     a ProgressEvent, on the resource ``videogen.job.<job_id>``
    tag videogen-job-<job_id>     on the job's flow run, so Prefect's own flow/task-run events find the job

:class:`JobFold` is the only interpreter of ProgressEvents. The API folds a job's stream with it and sends
``{event, status}`` over the WebSocket; the CLI folds its in-process events with it; the web UI only renders the
status it is sent. Rules (one set, everywhere):

- the job's progress is the weights (``core.stages``) of the stages done, plus the running stage's share of its
  weight; a per-clip stage's share is the clips *finished*, failed ones included (they will not run again);
- a stage's cost is its completed/cached event's cost, else the sum of its clips' costs (failed clips cost 0);
- an event for a stage means every earlier stage has finished; a job-level ``complete`` finishes them all;
- a job-level ``awaiting_review`` (director mode) holds the job after its prompts until the storyboard is approved;
  the next event (a stage or ``running``) means it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.contracts import ProgressEvent
from core.stages import STAGES, StageId, stage

EVENT_PREFIX = "videogen.progress."
JOB_RESOURCE_PREFIX = "videogen.job."
JOB_TAG_PREFIX = "videogen-job-"

JobStatusName = Literal["queued", "processing", "awaiting_review", "complete", "error"]
StageState = Literal["pending", "running", "done", "cached", "failed"]
TERMINAL_EVENTS = frozenset({"complete", "error"})
_STATUS: dict[str, JobStatusName] = {
    "queued": "queued",
    "awaiting_review": "awaiting_review",  # director mode: planned, nothing paid for clips yet
    "complete": "complete",
    "error": "error",
}


def event_name(stage_id: str) -> str:
    return f"{EVENT_PREFIX}{stage_id}"


def job_resource(job_id: str) -> str:
    return f"{JOB_RESOURCE_PREFIX}{job_id}"


def job_tag(job_id: str) -> str:
    """The tag on the job's flow run (Prefect's related resource id is ``prefect.tag.<tag>``)."""
    return f"{JOB_TAG_PREFIX}{job_id}"


class JobError(BaseModel):
    stage: str | None = Field(None, description="the stage that failed, when known")
    message: str


class Cost(BaseModel):
    by_stage: dict[str, float] = Field(default_factory=dict)
    total: float = 0.0
    currency: Literal["USD"] = "USD"


class StageView(BaseModel):
    id: StageId
    title: str
    state: StageState = "pending"
    progress: float = Field(0.0, description="percent of the stage")
    message: str = ""
    cost: float = 0.0


class JobProgress(BaseModel):
    """A job's status as its events tell it."""

    status: JobStatusName = "queued"
    progress: float = Field(0.0, description="percent of the whole job")
    stage: StageId | None = Field(None, description="the stage running now (or the last one)")
    stage_progress: float = Field(0.0, description="percent of the current stage")
    message: str = ""
    stages: list[StageView] = Field(default_factory=list, description="every stage, in pipeline order")
    cost: Cost = Field(default_factory=Cost)
    error: JobError | None = None
    clip_count: int | None = None
    clips_ready: list[int] = Field(default_factory=list, description="clips generated so far")
    clips_failed: list[int] = Field(default_factory=list, description="clips that failed for good")
    updated_at: datetime | None = None
    last_event_id: str | None = Field(None, description="id of the newest event; resume the WebSocket from it")


class JobFold:
    """Folds one job's events, one at a time (the WebSocket sends the status after each)."""

    def __init__(self) -> None:
        self.status: JobStatusName = "queued"
        self.progress = 0.0  # from job-level events: the weights of the stages finished
        self.stage: StageId | None = None
        self.message = ""
        self.views = {s.id: StageView(id=s.id, title=s.title) for s in STAGES}
        self.stage_cost: dict[str, float] = {}
        self.clip_cost: dict[str, dict[int, float]] = {}
        self.finished: dict[str, set[int]] = {}
        self.ready: set[int] = set()
        self.failed_clips: set[int] = set()
        self.clip_count: int | None = None
        self.failed: JobError | None = None  # the last stage that reported a failure
        self.error: JobError | None = None
        self.total: float | None = None
        self.updated: datetime | None = None
        self.last_id: str | None = None

    def apply(self, ev: ProgressEvent, event_id: str | None = None) -> None:
        self.last_id = event_id or ev.event_id or self.last_id
        self.updated, self.message = ev.timestamp, ev.message
        self.status = _STATUS.get(ev.status, "processing")
        if ev.stage == "job":
            self._job_event(ev)
        else:
            self._stage_event(ev)

    def _job_event(self, ev: ProgressEvent) -> None:
        self.progress = max(self.progress, ev.progress)
        if ev.status == "complete":
            self.progress, self.total = 100.0, ev.cost
            for view in self.views.values():
                if view.state in ("pending", "running"):
                    view.state, view.progress = "done", 100.0
        elif ev.status == "error":
            failed_stage = self.failed.stage if self.failed else self.stage
            self.error = JobError(stage=failed_stage, message=ev.message)
            if failed_stage in self.views:
                self.views[failed_stage].state = "failed"

    def _stage_event(self, ev: ProgressEvent) -> None:
        sid: StageId = ev.stage  # type: ignore[assignment]
        self.stage = sid
        view = self.views[sid]
        for earlier in STAGES[: [s.id for s in STAGES].index(sid)]:
            v = self.views[earlier.id]
            if v.state in ("pending", "running"):
                v.state, v.progress = "done", 100.0
        view.message = ev.message
        if ev.clip_count:
            self.clip_count = ev.clip_count
        if ev.clip_index is not None:
            self._clip_event(sid, view, ev)
            return
        if ev.status == "failed":
            self.failed = JobError(stage=sid, message=ev.message)
            view.state, view.progress = "failed", 100.0
        elif ev.status in ("completed", "cached"):
            view.state, view.progress = ("cached" if ev.status == "cached" else "done"), 100.0
            self.stage_cost[sid] = 0.0 if ev.status == "cached" else ev.cost
        else:
            if view.state == "pending":
                view.state = "running"
            view.progress = max(view.progress, ev.progress)
            if ev.cost:
                self.stage_cost[sid] = ev.cost

    def _clip_event(self, sid: StageId, view: StageView, ev: ProgressEvent) -> None:
        i = ev.clip_index
        assert i is not None
        failed = ev.status == "failed"
        if not failed:
            self.clip_cost.setdefault(sid, {})[i] = ev.cost
        if ev.progress >= 100 or failed:
            self.finished.setdefault(sid, set()).add(i)
            if sid == "video":
                (self.failed_clips if failed else self.ready).add(i)
                if not failed:
                    self.failed_clips.discard(i)  # a retry of the run regenerated it
        if view.state == "pending":
            view.state = "running"
        if ev.clip_count and view.state == "running":
            view.progress = min(99.0, 100.0 * len(self.finished.get(sid, ())) / ev.clip_count)

    def snapshot(self) -> JobProgress:
        by_stage = {s: round(sum(c.values()), 4) for s, c in self.clip_cost.items()}
        by_stage.update({s: round(c, 4) for s, c in self.stage_cost.items()})
        progress = self.progress
        current = self.views[self.stage] if self.stage else None
        if self.status == "processing" and current is not None and current.state == "running":
            # between job-level events, count the running stage's share of its weight
            progress = min(99.0, progress + stage(current.id).weight * current.progress / 100)
        views = [v.model_copy(update={"cost": by_stage.get(v.id, 0.0)}) for v in self.views.values()]
        total = self.total if self.total is not None else sum(by_stage.values())
        return JobProgress(
            status=self.status,
            progress=round(progress, 1),
            stage=self.stage,
            stage_progress=current.progress if current else 0.0,
            message=self.message,
            stages=views,
            cost=Cost(by_stage=by_stage, total=round(total, 4)),
            error=self.error,
            clip_count=self.clip_count,
            clips_ready=sorted(self.ready),
            clips_failed=sorted(self.failed_clips),
            updated_at=self.updated,
            last_event_id=self.last_id,
        )


def fold(events: Iterable[ProgressEvent | tuple[str, ProgressEvent]]) -> JobProgress:
    """The status that a whole stream of events (optionally with their stream ids) adds up to."""
    folder = JobFold()
    for item in events:
        if isinstance(item, tuple):
            folder.apply(item[1], item[0])
        else:
            folder.apply(item)
    return folder.snapshot()
