"""The nightly batch: rerun recent music-video runs (Prefect flow "batch-rerun", deployment ``nightly-rerun``).

    retry-failed   every FAILED/CRASHED run of the window goes back to AwaitingRetry on the same flow run id, which
                   is what the UI's Retry button does (prefect notes §12): a worker runs it again and every finished
                   stage is reused from the cache
    restyle        every COMPLETED run of the window is rendered again in a new style, as a new run (a new job) of
                   the music-video deployment with the same song, prompt, mood and clip length

Selection is plain functions over lists of ``FlowRun`` (``select_retries``, ``select_restyles``): one run per job
(``job_id``, which defaults to the flow run id), newest first, at most ``limit``; a failed job that already has a
newer completed, running or queued run is left alone. The Prefect I/O around them is thin: read the window, change
states or start runs, publish a table artifact.

A run enters the window by its expected or actual start time, which Prefect sets once, so a retried run that fails
again is not retried night after night: it leaves the window ``hours`` after its first start.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import OrchestrationResult, SetStateStatus
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.runtime import flow_run as current_run
from prefect.states import AwaitingRetry
from pydantic import BaseModel, ConfigDict

Mode = Literal["retry-failed", "restyle"]
Action = Literal["retried", "would-retry", "restyled", "would-restyle", "rejected", "skipped"]

#: the flow whose runs are rerun (``flows/music_video.py``; not imported, so this flow stays light to start)
FLOW_NAME = "music-video"
RETRY_MESSAGE = "Retried by batch-rerun"
RESTYLE_TAGS = ["batch", "restyle"]
RETRYABLE = frozenset({StateType.FAILED, StateType.CRASHED})
#: a newer run of the same job in one of these states means the job needs no retry
SUPERSEDING = frozenset({StateType.COMPLETED, StateType.RUNNING, StateType.SCHEDULED, StateType.PENDING})
RESTYLABLE = frozenset({StateType.COMPLETED})
#: parameters a restyled run takes over from its source run (the style is new, the job is new)
CARRIED_PARAMETERS = ("audio_uri", "prompt", "mood", "duration_hint")
_PAGE = 200
_EPOCH = datetime.min.replace(tzinfo=UTC)


class RerunItem(BaseModel):
    """One row of the batch report: what happened to one music-video run."""

    model_config = ConfigDict(extra="forbid")

    flow_run_id: UUID
    job_id: str
    action: Action
    new_flow_run_id: UUID | None = None
    reason: str = ""


@dataclass(frozen=True)
class Selection:
    """Runs to act on (newest first) and the runs of the window left alone, each with its reason."""

    picked: list[FlowRun] = field(default_factory=list)
    skipped: list[tuple[FlowRun, str]] = field(default_factory=list)


# --- selection: plain functions over FlowRun lists ------------------------------------------------------------------


def job_key(run: FlowRun) -> str:
    """The job a run belongs to: its ``job_id`` parameter, else its own id (the flow's default)."""
    job_id = run.parameters.get("job_id")
    return str(job_id) if job_id else str(run.id)


def started_at(run: FlowRun) -> datetime:
    """When the run started, else when it was expected to start, else when it was created."""
    return run.start_time or run.expected_start_time or run.created or _EPOCH


def newest_first(runs: Iterable[FlowRun]) -> list[FlowRun]:
    return sorted(runs, key=lambda r: (started_at(r), str(r.id)), reverse=True)


def _state_type(run: FlowRun) -> StateType | None:
    return run.state.type if run.state is not None else None


def _state_name(run: FlowRun) -> str:
    return (run.state.name or run.state.type.value) if run.state is not None else "no state"


def select_retries(runs: Iterable[FlowRun], *, limit: int) -> Selection:
    """The failed and crashed runs to retry: the newest per job, from a deployment, not superseded, at most ``limit``.

    ``runs`` is every run of the window; those in other states only tell whether a newer run of the same job is
    already completed, running or queued (then the failed one is skipped).
    """
    runs = newest_first(runs)
    newest_live: dict[str, FlowRun] = {}
    for run in runs:
        if _state_type(run) in SUPERSEDING:
            newest_live.setdefault(job_key(run), run)
    selection = Selection()
    seen: dict[str, FlowRun] = {}
    for run in runs:
        if _state_type(run) not in RETRYABLE:
            continue
        key = job_key(run)
        live = newest_live.get(key)
        if key in seen:
            selection.skipped.append((run, f"a newer failed run of the same job ({seen[key].id}) is the one to retry"))
            continue
        seen[key] = run
        if live is not None and started_at(live) > started_at(run):
            selection.skipped.append((run, f"superseded by newer run {live.id} ({_state_name(live)})"))
        elif run.deployment_id is None:
            selection.skipped.append((run, "not a deployment run: no worker would pick up a retry"))
        elif len(selection.picked) >= limit:
            selection.skipped.append((run, f"over the limit of {limit} runs per batch"))
        else:
            selection.picked.append(run)
    return selection


def select_restyles(runs: Iterable[FlowRun], *, style: str, limit: int) -> Selection:
    """The completed runs to render again in ``style``: the newest per job, not already in that style, at most
    ``limit``."""
    selection = Selection()
    seen: dict[str, FlowRun] = {}
    for run in newest_first(runs):
        if _state_type(run) not in RESTYLABLE:
            continue
        key = job_key(run)
        if key in seen:
            selection.skipped.append((run, f"a newer run of the same job ({seen[key].id}) is the one to restyle"))
            continue
        seen[key] = run
        if not (run.parameters.get("audio_uri") and run.parameters.get("prompt")):
            selection.skipped.append((run, "no audio_uri/prompt parameters to render again"))
        elif str(run.parameters.get("style") or "").strip().casefold() == style.casefold():
            selection.skipped.append((run, f"already in style {style!r}"))
        elif len(selection.picked) >= limit:
            selection.skipped.append((run, f"over the limit of {limit} runs per batch"))
        else:
            selection.picked.append(run)
    return selection


def restyle_parameters(run: FlowRun, style: str) -> dict[str, Any]:
    """The music-video parameters of a restyled copy of ``run``: same song and prompt, new style, new job."""
    params: dict[str, Any] = {name: run.parameters.get(name) for name in CARRIED_PARAMETERS}
    if "allow_partial" in run.parameters:  # a run that had to be complete stays strict
        params["allow_partial"] = run.parameters["allow_partial"]
    if run.parameters.get("aspect"):  # a restyle keeps the format (runs from before formats: 16:9)
        params["aspect"] = run.parameters["aspect"]
    return params | {"style": style, "job_id": None}


def check_window(*, hours: float, limit: int) -> None:
    """Validate the window and the limit before anything is read or changed."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def required_style(style: str | None) -> str:
    """The new style of a restyle batch (stripped); a clear error without one."""
    if not style or not style.strip():
        raise ValueError("mode 'restyle' needs the new style: pass style='watercolor' (or another style)")
    return style.strip()


def artifact_key(mode: Mode, day: datetime) -> str:
    """``batch-rerun-<mode>-<yyyy-mm-dd>``: Prefect artifact keys are lowercase letters, digits and dashes."""
    return f"batch-rerun-{mode}-{day:%Y-%m-%d}"


def summarize(items: list[RerunItem], *, mode: Mode, hours: float, dry_run: bool) -> str:
    counts = Counter(item.action for item in items)
    done = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing to do"
    return f"batch-rerun {mode} over the last {hours:g} h{' (dry run)' if dry_run else ''}: {done}"


# --- Prefect I/O ----------------------------------------------------------------------------------------------------


def read_recent_runs(
    client: SyncPrefectClient, *, since: datetime, states: Iterable[StateType], from_deployment: bool = False
) -> list[FlowRun]:
    """music-video runs in ``states`` that were expected to start, or started, after ``since``."""
    state = FlowRunFilterState(type=FlowRunFilterStateType(any_=sorted(states)))
    deployment = FlowRunFilterDeploymentId(is_null_=False) if from_deployment else None
    expected, started = FlowRunFilterExpectedStartTime(after_=since), FlowRunFilterStartTime(after_=since)
    windows = [  # expected OR actual start in the window: one query each
        FlowRunFilter(state=state, deployment_id=deployment, expected_start_time=expected),
        FlowRunFilter(state=state, deployment_id=deployment, start_time=started),
    ]
    found: dict[UUID, FlowRun] = {}
    for window in windows:
        offset = 0
        while True:
            page = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
                flow_run_filter=window,
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=_PAGE,
                offset=offset,
            )
            found.update((run.id, run) for run in page)
            if len(page) < _PAGE:
                break
            offset += _PAGE
    return list(found.values())


def retry(client: SyncPrefectClient, run: FlowRun) -> RerunItem:
    """What the UI's Retry button does: propose AwaitingRetry on the same run id, orchestration rules applying."""
    try:
        result: OrchestrationResult[Any] = client.set_flow_run_state(
            run.id, AwaitingRetry(message=RETRY_MESSAGE), force=False
        )
    except ObjectNotFound:
        return _item(run, "rejected", "the flow run no longer exists")
    if result.status == SetStateStatus.ACCEPT:
        return _item(run, "retried", f"{_state_name(run)} -> AwaitingRetry")
    reason = getattr(result.details, "reason", None) or "no reason given"
    return _item(run, "rejected", f"{result.status.value.lower()}: {reason}")


def restyle(run: FlowRun, *, deployment: str, style: str) -> RerunItem:
    """Start a new run of ``deployment`` for ``run``'s song in ``style``, without waiting for it."""
    batch_id = current_run.id
    new = cast(
        FlowRun,
        run_deployment(
            deployment,
            parameters=restyle_parameters(run, style),
            timeout=0,
            tags=RESTYLE_TAGS,
            # a retry of this batch run does not start a second copy of the same restyle
            idempotency_key=f"batch-rerun-{batch_id}-{run.id}-{style}" if batch_id else None,
            as_subflow=False,  # a new job of its own: cancelling the batch must not cancel it
        ),
    )
    return _item(run, "restyled", f"new run {new.name} in style {style!r}", new_flow_run_id=new.id)


def _item(run: FlowRun, action: Action, reason: str, new_flow_run_id: UUID | None = None) -> RerunItem:
    return RerunItem(
        flow_run_id=run.id, job_id=job_key(run), action=action, new_flow_run_id=new_flow_run_id, reason=reason
    )


def _retry_batch(client: SyncPrefectClient, *, since: datetime, limit: int, dry_run: bool) -> list[RerunItem]:
    failed = read_recent_runs(client, since=since, states=RETRYABLE, from_deployment=True)
    selection = select_retries(failed + read_recent_runs(client, since=since, states=SUPERSEDING), limit=limit)
    done = [_item(r, "would-retry", "dry run") if dry_run else retry(client, r) for r in selection.picked]
    return done + [_item(run, "skipped", reason) for run, reason in selection.skipped]


def _restyle_batch(
    client: SyncPrefectClient, *, since: datetime, style: str, limit: int, dry_run: bool, deployment: str
) -> list[RerunItem]:
    try:
        client.read_deployment_by_name(deployment)
    except ObjectNotFound as exc:
        raise ValueError(f"deployment {deployment!r} not found: restyled runs are started from it") from exc
    selection = select_restyles(read_recent_runs(client, since=since, states=RESTYLABLE), style=style, limit=limit)
    done = [
        _item(r, "would-restyle", f"dry run: style {style!r}")
        if dry_run
        else restyle(r, deployment=deployment, style=style)
        for r in selection.picked
    ]
    return done + [_item(run, "skipped", reason) for run, reason in selection.skipped]


@flow(name="batch-rerun")
def batch_rerun(
    mode: Mode = "retry-failed",
    hours: float = 24,
    style: str | None = None,
    limit: int = 20,
    dry_run: bool = False,
    deployment: str = "music-video/music-video",
) -> list[RerunItem]:
    """Retry the music-video runs that failed or crashed in the last ``hours`` (same run ids, cached stages reused),
    or with ``mode="restyle"`` render the completed ones again in ``style`` as new runs of ``deployment``.

    Parameters
    ----------
    mode : ``retry-failed`` or ``restyle``.
    hours : look-back window, by expected or actual start time.
    style : the new style; required for ``restyle``.
    limit : at most this many runs are retried or restyled (newest first).
    dry_run : select and report, change nothing.
    deployment : the music-video deployment restyled runs are started from.

    Returns one item per failed/crashed (retry-failed) or completed (restyle) run of the window: what was done, or
    why it was left alone. The same rows are published as the table artifact ``batch-rerun-<mode>-<yyyy-mm-dd>``.
    """
    check_window(hours=hours, limit=limit)
    new_style = required_style(style) if mode == "restyle" else None
    since = datetime.now(UTC) - timedelta(hours=hours)
    with get_client(sync_client=True) as client:
        if new_style is None:
            items = _retry_batch(client, since=since, limit=limit, dry_run=dry_run)
        else:
            items = _restyle_batch(client, since=since, style=new_style, limit=limit, dry_run=dry_run,
                                   deployment=deployment)  # fmt: skip
    summary = summarize(items, mode=mode, hours=hours, dry_run=dry_run)
    create_table_artifact(
        key=artifact_key(mode, datetime.now(UTC)),
        table=[item.model_dump(mode="json") for item in items],
        description=summary,
    )
    get_run_logger().info(summary)
    return items
