"""What every stage task shares: content cache keys, the transient-only retry rule, storage paths, progress."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.client.schemas.objects import State, TaskRun
from prefect.concurrency.sync import concurrency
from prefect.events import emit_event
from prefect.tasks import exponential_backoff
from prefect.transactions import get_transaction
from pydantic import BaseModel
from pydantic_core import to_json

from core.budget import job_scope
from core.contracts import ProgressEvent
from core.errors import is_transient
from core.progress import event_name, job_resource
from core.settings import get_settings
from core.stages import BY_TASK, StageId, stage
from core.storage import Kind
from providers.base import Provider
from providers.storage import get_storage
from tasks.results import result_storage_options

log = logging.getLogger("videogen")
P = ParamSpec("P")
R = TypeVar("R")

#: bump when a stage's logic changes in a way that must invalidate old cached results
CACHE_VERSION = "1"


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot hash {type(obj).__name__}")


def content_key(stage: str, *parts: Any) -> str:
    """sha256 over the stage name and JSON of its real inputs (content hashes, models, provider identity)."""
    blob = json.dumps([stage, CACHE_VERSION, *parts], sort_keys=True, default=_default)
    return f"{stage}-{hashlib.sha256(blob.encode()).hexdigest()[:40]}"


def run_cache_key(compute: Callable[[], str]) -> str:
    """This task run's cache key: the one Prefect computed from the task's key function (its transaction's key),
    else ``compute()`` (a direct ``.fn`` call). The key functions hash file contents: once per run is enough."""
    txn = get_transaction()
    return txn.key if txn is not None and txn.key else compute()


MAX_RETRY_AFTER = 60.0  # s: a longer Retry-After is capped (the task's own backoff still follows)


def retry_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry condition: only timeouts, rate limits and 5xx (TransientProviderError) are worth another try.

    A vendor's ``Retry-After`` is honoured here, the one retry layer: the retry waits that long (at most
    ``MAX_RETRY_AFTER``) before the task's backoff delay, so a rate-limited call is not repeated too early."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - we classify, not handle
        if not is_transient(exc):
            return False
        wait = getattr(exc, "retry_after", None)
        if wait and task_run.run_count <= task.retries:
            time.sleep(min(float(wait), MAX_RETRY_AFTER))
        return True
    return False


def retry_options(retries: int | None = None) -> dict[str, Any]:
    """Retries with exponential backoff (delays expanded now, for this retry count: see prefect notes §1)."""
    s = get_settings()
    n = s.retries if retries is None else retries
    return {
        "retries": n,
        "retry_delay_seconds": exponential_backoff(backoff_factor=s.retry_backoff)(n) if n else 0,
        "retry_jitter_factor": 0.5,
        "retry_condition_fn": retry_transient,
    }


def stage_task(
    stage_id: StageId, *, cache_key_fn: Callable[..., str], run_name: str = ""
) -> Callable[[Callable[P, R]], Task[P, R]]:
    """The Prefect task of a stage: named by the registry (``run_name`` is appended to per-clip runs, e.g.
    ``"-{clip.index}"``), cached by its content key, its result persisted, only transient errors retried. Retry
    counts and result storage come from the settings when the flow runs (:func:`configured`)."""
    name = stage(stage_id).task_name
    return task(name=name, task_run_name=name + run_name, cache_key_fn=cache_key_fn, persist_result=True,
                retry_condition_fn=retry_transient)  # fmt: skip


def configured(task: Task[P, R]) -> Task[P, R]:
    """A stage task with its options from the current settings, applied per run, never at import: its retries
    (``core.stages``), and where its result is persisted (the bucket's result block on S3)."""
    spec = BY_TASK[task.name]
    return task.with_options(**retry_options(spec.retries), **result_storage_options())


@contextmanager
def provider_call(job_id: str, provider: Provider) -> Iterator[None]:
    """Around one provider call: charge the job's spend ledger, and hold a slot of the provider's global
    concurrency limit (strict: a missing limit is an error, not a silent no-op; the flow creates it at start)."""
    with job_scope(job_id):
        if provider.concurrency_key is None:
            yield
            return
        with concurrency(provider.concurrency_key, occupy=1, strict=True):
            yield


def cache_path(stage: str, key: str, suffix: str) -> Path:
    """Content-addressed location of a stage's output file: the same inputs always land on the same path."""
    path = get_settings().cache_dir / stage / f"{key}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def conform_cache() -> Path:
    """Where conformed 1080p clip pieces live; shared by the video task (early) and the composer."""
    return get_settings().cache_dir / "conform"


def put_json(key: str, value: Any, kind: Kind = "intermediate") -> str:
    """Store a stage output (a model or a list of models) as JSON in the job storage (atomically on disk), so the
    API can show the analysis, plan, prompts and clips while the job still runs; returns its URI."""
    return get_storage().put_bytes(key, to_json(value, indent=2), kind)


def local_file(uri: str) -> Path:
    """A local copy of a file the pipeline refers to (downloaded once from S3; a path as it is locally)."""
    return get_storage().local(uri)


Listener = Callable[[ProgressEvent], None]
_listeners: list[Listener] = []


def add_listener(fn: Listener) -> None:
    """In-process subscribers (the CLI's progress display); the API listens to Prefect events instead."""
    _listeners.append(fn)


def remove_listener(fn: Listener) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def report(
    job_id: str,
    stage: StageId | str,
    status: str,
    progress: float,
    message: str = "",
    *,
    clip_index: int | None = None,
    clip_count: int | None = None,
    cost: float = 0.0,
) -> ProgressEvent:
    """Emit one ProgressEvent: to local listeners and as a Prefect event ``videogen.progress.<stage>``."""
    event = ProgressEvent(
        job_id=job_id,
        stage=stage,
        status=status,
        progress=round(min(100.0, max(0.0, progress)), 1),
        message=message,
        clip_index=clip_index,
        clip_count=clip_count,
        cost=round(cost, 4),
    )
    for fn in list(_listeners):
        try:
            fn(event)
        except Exception:  # a broken display must not break the render
            log.exception("progress listener failed")
    emit_event(
        event=event_name(stage),
        resource={"prefect.resource.id": job_resource(job_id), "prefect.resource.name": f"job {job_id}"},
        payload=event.model_dump(mode="json"),
    )
    return event
