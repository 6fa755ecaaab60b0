"""Running one stage inside the flow: the same steps for every stage, written once.

:meth:`JobRun.stage` submits a stage's task (once, or once per clip), re-submits an item whose cached record
outlived its file, adopts the outputs' files into the job's folder, records the stage's output in the job storage
(where the API reads it), and reports the stage's cost, cache hits and the job's progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.futures import PrefectFuture, wait
from pydantic import BaseModel

from core.contracts import StageCost
from core.errors import PipelineError
from core.stages import StageId, stage
from core.storage import JobKeys, Kind
from providers.storage import get_storage
from tasks.common import put_json, report

M = TypeVar("M", bound=BaseModel)

#: submit(item, refresh) -> the task's future; ``refresh`` ignores its cached record
Submit = Callable[[int, bool], PrefectFuture[M]]


class Files:
    """Where a stage's output files belong in the job's folder (item index -> key, retention class)."""

    def __init__(self, key: Callable[[int], str], kind: Kind = "intermediate") -> None:
        self.key, self.kind = key, kind


class JobRun:
    """Book-keeping of one run: stage timings, costs, cache hits, job progress."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.keys = JobKeys(job_id)
        self.stages: list[StageCost] = []
        self.done = 0.0
        self.progress_id = cast(UUID, create_progress_artifact(progress=0.0, description=f"VideoGen job {job_id}"))

    @property
    def total(self) -> float:
        return sum(s.cost for s in self.stages)

    def redo(self, *stage_ids: StageId) -> None:
        """Forget these stages' records before they run again in this run (a reviewed storyboard)."""
        for s in [s for s in self.stages if s.stage in stage_ids]:
            self.stages.remove(s)
            self.done -= stage(s.stage).weight

    def fail(self, stage_id: StageId, error: PipelineError) -> PipelineError:
        report(self.job_id, stage_id, "failed", 100, str(error))
        report(self.job_id, "job", "error", self.done, f"{stage(stage_id).title} failed: {error}")
        return error

    def stage(
        self,
        stage_id: StageId,
        submit: Submit[M],
        *,
        items: int = 1,
        files: Files | None = None,
        on_failure: Callable[[int, BaseException, PrefectFuture[M]], M] | None = None,
        adapt: Callable[[M], M] | None = None,
        cost: Callable[[M], float] = lambda o: float(getattr(o, "cost", 0.0)),
    ) -> list[M]:
        """Run the stage's ``items`` task runs; returns their outputs in order. A failed item goes to
        ``on_failure`` (a fallback output) when given, else the stage fails the job. ``adapt`` fixes up each
        output, a fallback's included (e.g. a cached one naming another job's file); ``cost`` is what an output cost."""
        started = time.perf_counter()
        futures = [submit(i, False) for i in range(items)]
        wait(futures)
        if files is not None:  # a cache record whose file is gone (`rm -rf data`, bucket expiry): produce it again
            futures = [submit(i, True) if _file_missing(f) else f for i, f in enumerate(futures)]
            wait(futures)
        outputs: list[M] = []
        try:
            for i, fut in enumerate(futures):
                if fut.state.is_completed():
                    out = _own(fut.result(), files, i) if files else fut.result()
                    outputs.append(adapt(out) if adapt else out)
                    continue
                error = fut.result(raise_on_failure=False)
                exc = error if isinstance(error, BaseException) else RuntimeError(str(error))
                if on_failure is None:
                    raise exc
                fallback = on_failure(i, exc, fut)  # adapted too: a reviewer's edits apply to a fallback output
                outputs.append(adapt(fallback) if adapt else fallback)
        except PipelineError as exc:
            raise self.fail(stage_id, exc) from None
        cached = all(f.state.name == "Cached" for f in futures)
        spent = 0.0 if cached else sum(cost(o) for o in outputs)
        self._record(stage_id, outputs, futures, cached, spent, time.perf_counter() - started)
        return outputs

    def _record(
        self,
        stage_id: StageId,
        outputs: Sequence[M],
        futures: Sequence[PrefectFuture[M]],
        cached: bool,
        cost: float,
        secs: float,
    ) -> None:
        spec = stage(stage_id)
        calls = sum(f.state.name != "Cached" for f in futures)
        self.stages.append(StageCost(stage=stage_id, cost=cost, calls=calls, cached=cached, seconds=round(secs, 3)))
        self.done += spec.weight
        # the stage's output in the job's storage (the API's views); one cached from another job gets a copy here
        if spec.per_clip and spec.record is None:
            for o in outputs:
                put_json(self.keys.clip(int(getattr(o, "index")), ".json"), o)  # noqa: B009
        elif spec.record is not None:
            put_json(self.keys.stage(stage_id), list(outputs) if spec.per_clip else outputs[0])
        if cached:
            report(self.job_id, stage_id, "cached", 100, f"{spec.title}: reused cached result")
        elif spec.per_clip:  # per-clip tasks report their clips; the flow reports the stage
            report(self.job_id, stage_id, "completed", 100, f"{spec.title}: {len(futures)} clips", cost=cost)
        report(self.job_id, "job", "running", self.done, f"{spec.title} done", cost=self.total)
        if self.progress_id is not None:
            update_progress_artifact(artifact_id=self.progress_id, progress=self.done)


def _file_missing(future: PrefectFuture[Any]) -> bool:
    if not future.state.is_completed():
        return False
    uri = getattr(future.result(), "uri", None)
    return uri is not None and not get_storage().has(uri)


def _own(output: M, files: Files, index: int) -> M:
    """An output cached from another job names that job's file: copy it to this job's key (a hard link locally, a
    server-side copy on S3), so each job's folder is complete and outlives the other job's."""
    uri = getattr(output, "uri", None)
    if uri is None:
        return output
    return output.model_copy(update={"uri": get_storage().adopt(uri, files.key(index), files.kind)})


def run_count(future: PrefectFuture[Any]) -> int:
    """How many times Prefect ran the task (1 + retries used)."""
    with get_client(sync_client=True) as client:
        return max(1, client.read_task_run(future.task_run_id).run_count)
