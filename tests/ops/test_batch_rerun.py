"""The batch-rerun flow (flows/batch_rerun.py).

First the selection functions, on hand-made ``FlowRun`` objects (no server). Then the flow itself, called in this
process against the suite's real Prefect server with prefect.yaml deployed and no workers running, so the runs it
requeues or starts just sit there. Each integration test makes its own music-video runs (job ids ``batch-test-…``),
looks back only to its own start (plus a minute of slack), and cancels every run it made or started when it ends,
so the other operations tests sharing the server find nothing of ours left to pick up.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID, uuid4

import pytest
import yaml
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.states import Cancelled, Completed, Crashed, Failed, Pending, Running, Scheduled

from devtools.stack import ROOT
from devtools.workers import PrefectPool
from flows.batch_rerun import (
    RESTYLE_TAGS,
    RETRY_MESSAGE,
    RerunItem,
    artifact_key,
    batch_rerun,
    check_window,
    job_key,
    required_style,
    restyle_parameters,
    retry,
    select_restyles,
    select_retries,
    summarize,
)

NOW = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
DEPLOYMENT_ID = uuid4()
SONG = "file:///songs/batch-test.ogg"
PROMPT = "a fox running through a neon forest"
WINDOW_SLACK = 60.0  # seconds


def fake_run(
    job_id: str | None,
    state: State[Any],
    *,
    minutes_ago: float = 60,
    deployment: bool = True,
    **params: Any,
) -> FlowRun:
    """A music-video run as the API would return it: parameters, state, expected start, deployment."""
    return FlowRun(
        flow_id=uuid4(),
        deployment_id=DEPLOYMENT_ID if deployment else None,
        parameters={"audio_uri": SONG, "prompt": PROMPT, "job_id": job_id} | params,
        state=state,
        expected_start_time=NOW - timedelta(minutes=minutes_ago),
    )


def ids(runs: list[FlowRun]) -> list[UUID]:
    return [r.id for r in runs]


# --- selection, no server -------------------------------------------------------------------------------------------


def test_job_key_is_the_job_id_else_the_run_id() -> None:
    # Input: one run with job_id "j1", one with job_id None (the flow then uses its run id as the job id).
    named, unnamed = fake_run("j1", Failed()), fake_run(None, Failed())
    assert job_key(named) == "j1"
    assert job_key(unnamed) == str(unnamed.id)


def test_retries_pick_failed_and_crashed_runs_newest_first() -> None:
    # Input: failed (30 min ago), crashed (10 min ago), and completed/cancelled/running runs of other jobs.
    failed = fake_run("a", Failed(), minutes_ago=30)
    crashed = fake_run("b", Crashed(), minutes_ago=10)
    others = [fake_run("c", Completed(), minutes_ago=5), fake_run("d", Cancelled()), fake_run("e", Running())]
    selection = select_retries([failed, *others, crashed], limit=20)
    assert ids(selection.picked) == [crashed.id, failed.id]
    assert selection.skipped == []


def test_retries_keep_the_newest_failed_run_of_a_job() -> None:
    # Input: job "j" failed twice (60 and 20 min ago); two runs with no job_id failed (each its own job).
    older, newer = fake_run("j", Failed(), minutes_ago=60), fake_run("j", Failed(), minutes_ago=20)
    own_a, own_b = fake_run(None, Failed(), minutes_ago=50), fake_run(None, Crashed(), minutes_ago=40)
    selection = select_retries([older, own_a, newer, own_b], limit=20)
    assert ids(selection.picked) == [newer.id, own_b.id, own_a.id]
    [(skipped, reason)] = selection.skipped
    assert skipped.id == older.id and str(newer.id) in reason


@pytest.mark.parametrize("newer_state", [Completed, Running, Scheduled, Pending])
def test_retries_skip_a_job_with_a_newer_live_run(newer_state: Any) -> None:
    # Input: job "j" failed 60 min ago and has a newer run (10 min ago) in `newer_state`; job "k" failed 60 min ago
    # and its only other run is an OLDER completed one (90 min ago), which must not block the retry.
    failed_j, newer = fake_run("j", Failed(), minutes_ago=60), fake_run("j", newer_state(), minutes_ago=10)
    failed_k, older_ok = fake_run("k", Failed(), minutes_ago=60), fake_run("k", Completed(), minutes_ago=90)
    selection = select_retries([failed_j, newer, failed_k, older_ok], limit=20)
    assert ids(selection.picked) == [failed_k.id]
    [(skipped, reason)] = selection.skipped
    assert skipped.id == failed_j.id
    assert reason.startswith("superseded by newer run") and str(newer.id) in reason


def test_retries_skip_runs_without_a_deployment() -> None:
    # Input: a failed run started from the CLI (no deployment_id): no worker would ever pick its retry up.
    local = fake_run("cli", Failed(), deployment=False)
    selection = select_retries([local], limit=20)
    assert selection.picked == []
    assert selection.skipped == [(local, "not a deployment run: no worker would pick up a retry")]


def test_retries_respect_the_limit_newest_first() -> None:
    # Input: 5 failed runs of 5 jobs, 10..50 min ago, limit=2.
    runs = [fake_run(f"j{i}", Failed(), minutes_ago=10 * i) for i in range(1, 6)]
    selection = select_retries(runs, limit=2)
    assert ids(selection.picked) == ids(runs[:2])
    assert [r.id for r, _ in selection.skipped] == ids(runs[2:])
    assert all(reason == "over the limit of 2 runs per batch" for _, reason in selection.skipped)


def test_restyles_pick_completed_runs_once_per_job() -> None:
    # Input: job "a" completed twice (newest wins), "b" completed already in "Watercolor", "c" completed without a
    # prompt, "d" failed (not restylable), "e" completed in "neon"; new style "watercolor".
    a_old, a_new = fake_run("a", Completed(), minutes_ago=50), fake_run("a", Completed(), minutes_ago=5)
    b = fake_run("b", Completed(), minutes_ago=20, style="Watercolor")
    c = fake_run("c", Completed(), minutes_ago=30, prompt=None)
    d = fake_run("d", Failed(), minutes_ago=1)
    e = fake_run("e", Completed(), minutes_ago=40, style="neon")
    selection = select_restyles([a_old, b, c, d, e, a_new], style="watercolor", limit=20)
    assert ids(selection.picked) == [a_new.id, e.id]
    reasons = {r.id: reason for r, reason in selection.skipped}
    assert set(reasons) == {a_old.id, b.id, c.id}
    assert str(a_new.id) in reasons[a_old.id]
    assert reasons[b.id] == "already in style 'watercolor'"
    assert "prompt" in reasons[c.id]


def test_restyles_respect_the_limit() -> None:
    # Input: 3 completed runs of 3 jobs, limit=1.
    runs = [fake_run(f"j{i}", Completed(), minutes_ago=i) for i in range(1, 4)]
    selection = select_restyles(runs, style="ink", limit=1)
    assert ids(selection.picked) == [runs[0].id]
    assert len(selection.skipped) == 2


def test_restyle_parameters_keep_the_song_and_start_a_new_job() -> None:
    # Input: a completed run with every parameter set, including allow_partial=False.
    run = fake_run("job-1", Completed(), style="neon", mood="dreamy", duration_hint=4.0, allow_partial=False)
    assert restyle_parameters(run, "watercolor") == {
        "audio_uri": SONG,
        "prompt": PROMPT,
        "mood": "dreamy",
        "duration_hint": 4.0,
        "allow_partial": False,
        "style": "watercolor",
        "job_id": None,
    }
    # Input: a run from before allow_partial existed: the parameter is not invented.
    assert "allow_partial" not in restyle_parameters(fake_run("job-2", Completed()), "ink")
    # Input: a 9:16 run: the restyle keeps its format; a run from before formats gets none (the flow's 16:9).
    assert restyle_parameters(fake_run("job-3", Completed(), aspect="9:16"), "ink")["aspect"] == "9:16"
    assert "aspect" not in restyle_parameters(fake_run("job-2", Completed()), "ink")


@pytest.mark.parametrize("style", [None, "", "   "])
def test_restyle_needs_a_style(style: str | None) -> None:
    # Input: a missing or blank style.
    with pytest.raises(ValueError, match="needs the new style"):
        required_style(style)


def test_window_and_limit_are_checked() -> None:
    # Input: hours=0, limit=0, then sane values.
    with pytest.raises(ValueError, match="hours"):
        check_window(hours=0, limit=20)
    with pytest.raises(ValueError, match="limit"):
        check_window(hours=24, limit=0)
    check_window(hours=0.01, limit=1)
    assert required_style("  ink ") == "ink"


def test_artifact_key_and_summary() -> None:
    # Input: both modes on NOW; a list of two retried runs and one skipped run.
    for mode in ("retry-failed", "restyle"):
        assert re.fullmatch(r"[a-z0-9-]+", artifact_key(mode, NOW)), mode
    assert artifact_key("restyle", NOW) == "batch-rerun-restyle-2026-03-01"
    items = [RerunItem(flow_run_id=uuid4(), job_id="j", action=a) for a in ("retried", "retried", "skipped")]
    assert summarize(items, mode="retry-failed", hours=24, dry_run=False) == (
        "batch-rerun retry-failed over the last 24 h: 2 retried, 1 skipped"
    )
    assert summarize([], mode="restyle", hours=1.5, dry_run=True).endswith("1.5 h (dry run): nothing to do")


# --- the flow against a real Prefect server -------------------------------------------------------------------------


@dataclass
class Batch:
    """Music-video runs made by one test; ``hours`` reaches back to just before the first of them."""

    client: SyncPrefectClient
    deployment_id: UUID
    prefix: str = field(default_factory=lambda: f"batch-test-{uuid.uuid4().hex[:8]}-")
    started: float = field(default_factory=time.time)
    made: list[UUID] = field(default_factory=list)

    @property
    def hours(self) -> float:
        """Back to when the test began, plus slack: the flow measures its window from its own start, which under
        load comes seconds after this is read. Earlier tests of this file cancel their runs, so none are picked."""
        return (time.time() - self.started + WINDOW_SLACK) / 3600

    def run(self, label: str, state: State[Any], **params: Any) -> FlowRun:
        """A run of music-video/music-video (job id ``<prefix><label>``) forced into ``state``."""
        parameters = {"audio_uri": SONG, "prompt": PROMPT, "job_id": self.prefix + label} | params
        run = self.client.create_flow_run_from_deployment(self.deployment_id, parameters=parameters)
        self.made.append(run.id)
        self.client.set_flow_run_state(run.id, state, force=True)
        return self.client.read_flow_run(run.id)

    def state(self, run_id: UUID) -> State[Any]:
        state = self.client.read_flow_run(run_id).state
        assert state is not None
        return state

    def mine(self, items: list[RerunItem]) -> dict[UUID, RerunItem]:
        return {item.flow_run_id: item for item in items if item.job_id.startswith(self.prefix)}

    def restyled_runs(self) -> list[FlowRun]:
        """Runs carrying the restyle tags that were created since this test began."""
        since = datetime.fromtimestamp(self.started, UTC)
        return self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=RESTYLE_TAGS),
                expected_start_time=FlowRunFilterExpectedStartTime(after_=since),
            )
        )

    def cancel_all(self) -> None:
        for run_id in [*self.made, *(r.id for r in self.restyled_runs())]:
            self.client.set_flow_run_state(run_id, Cancelled(message="batch-rerun test cleanup"), force=True)


@pytest.fixture()
def batch(on_pool: PrefectPool) -> Iterator[Batch]:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("music-video/music-video")
        made = Batch(client, deployment.id)
        try:
            yield made
        finally:
            made.cancel_all()


def test_retry_failed_requeues_failed_and_crashed_runs_on_the_same_id(batch: Batch) -> None:
    # Input: four runs of four jobs: Failed, Crashed, Completed, Cancelled; mode=retry-failed.
    failed, crashed = batch.run("failed", Failed()), batch.run("crashed", Crashed())
    completed, cancelled = batch.run("completed", Completed()), batch.run("cancelled", Cancelled())

    state = cast(State[Any], batch_rerun(mode="retry-failed", hours=batch.hours, return_state=True))
    items = cast(list[RerunItem], state.result())

    mine = batch.mine(items)
    assert set(mine) == {failed.id, crashed.id}
    assert {item.action for item in mine.values()} == {"retried"}
    for run in (failed, crashed):
        again = batch.client.read_flow_run(run.id)  # the same flow run, back in the queue
        assert again.state is not None and again.state.name == "AwaitingRetry"
        assert again.state.type == StateType.SCHEDULED and again.state.message == RETRY_MESSAGE
        assert again.parameters["job_id"] == run.parameters["job_id"]
    assert batch.state(completed.id).name == "Completed"
    assert batch.state(cancelled.id).name == "Cancelled"

    # The operator's table: one row per item, under today's key, on the batch run.
    batch_run_id = state.state_details.flow_run_id
    [artifact] = batch.client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[batch_run_id]))
    )
    assert artifact.key == artifact_key("retry-failed", datetime.now(UTC))
    data = artifact.data  # a table artifact's rows, as JSON text
    rows = cast(list[dict[str, Any]], json.loads(data) if isinstance(data, str) else data)
    assert {row["flow_run_id"] for row in rows} >= {str(failed.id), str(crashed.id)}
    assert artifact.description is not None and "2 retried" in artifact.description


def test_retry_failed_skips_superseded_and_duplicate_runs(batch: Batch) -> None:
    # Input: job "done" failed, then a newer run of it completed; job "twice" failed twice; limit=20.
    superseded = batch.run("done", Failed())
    newer = batch.run("done", Completed())
    first, second = batch.run("twice", Failed()), batch.run("twice", Crashed())

    mine = batch.mine(batch_rerun(hours=batch.hours))

    assert mine[superseded.id].action == "skipped" and str(newer.id) in mine[superseded.id].reason
    assert mine[first.id].action == "skipped" and str(second.id) in mine[first.id].reason
    assert mine[second.id].action == "retried"
    assert newer.id not in mine
    assert batch.state(superseded.id).name == "Failed"
    assert batch.state(first.id).name == "Failed"
    assert batch.state(second.id).name == "AwaitingRetry"


def test_dry_run_changes_nothing(batch: Batch) -> None:
    # Input: one Failed and one Completed run; retry-failed then restyle, both with dry_run=True.
    failed, completed = batch.run("failed", Failed()), batch.run("completed", Completed())

    retried = batch.mine(batch_rerun(mode="retry-failed", hours=batch.hours, dry_run=True))
    restyled = batch.mine(batch_rerun(mode="restyle", style="ink", hours=batch.hours, dry_run=True))

    assert {k: v.action for k, v in retried.items()} == {failed.id: "would-retry"}
    assert {k: v.action for k, v in restyled.items()} == {completed.id: "would-restyle"}
    assert all(item.new_flow_run_id is None for item in [*retried.values(), *restyled.values()])
    assert batch.state(failed.id).name == "Failed"
    assert batch.state(completed.id).name == "Completed"
    assert batch.restyled_runs() == []


def test_restyle_starts_new_runs_in_the_new_style(batch: Batch) -> None:
    # Input: two Completed runs (one "neon"/"dreamy"/4 s, one with no style) and one Failed run; style=watercolor.
    neon = batch.run("neon", Completed(), style="neon", mood="dreamy", duration_hint=4.0)
    plain = batch.run("plain", Completed())
    failed = batch.run("failed", Failed())

    mine = batch.mine(batch_rerun(mode="restyle", style="watercolor", hours=batch.hours))

    assert set(mine) == {neon.id, plain.id}
    for source in (neon, plain):
        item = mine[source.id]
        assert item.action == "restyled" and item.new_flow_run_id is not None
        new = batch.client.read_flow_run(item.new_flow_run_id)
        assert new.id != source.id and new.deployment_id == batch.deployment_id
        assert new.state is not None and new.state.type == StateType.SCHEDULED
        assert set(RESTYLE_TAGS) <= set(new.tags)
        assert new.parameters["style"] == "watercolor"
        assert new.parameters["job_id"] is None  # a new job: it takes its own run id
        for name in ("audio_uri", "prompt", "mood", "duration_hint"):
            assert new.parameters.get(name) == source.parameters.get(name), name
        assert batch.state(source.id).name == "Completed"
    assert batch.state(failed.id).name == "Failed"
    assert {r.id for r in batch.restyled_runs()} == {mine[s.id].new_flow_run_id for s in (neon, plain)}


@pytest.mark.parametrize("style", [None, "  "])
def test_restyle_without_a_style_raises(batch: Batch, style: str | None) -> None:
    # Input: one Completed run; mode=restyle with no style / a blank style.
    completed = batch.run("completed", Completed())
    with pytest.raises(ValueError, match="needs the new style"):
        batch_rerun(mode="restyle", style=style, hours=batch.hours)
    assert batch.restyled_runs() == []
    assert batch.state(completed.id).name == "Completed"


@flow(name="batch-test-probe")
def probe() -> None:
    """Never run: only its flow runs are created, to try what the server refuses."""


def test_rejected_transitions_are_reported(batch: Batch) -> None:
    # Input: a Failed run of a flow with no deployment (the server aborts AwaitingRetry: nothing could run it) and a
    # Failed run deleted after it was read; both go straight to retry(), past the selection that would skip them.
    orphan = batch.client.create_flow_run(probe, state=Failed())
    gone = batch.run("gone", Failed())
    batch.client.delete_flow_run(gone.id)
    batch.made.remove(gone.id)
    try:
        aborted = retry(batch.client, orphan)
        missing = retry(batch.client, gone)
    finally:
        batch.client.set_flow_run_state(orphan.id, Cancelled(), force=True)

    assert aborted.action == "rejected"
    assert aborted.reason == "abort: Cannot reschedule a run without an associated deployment."
    assert (missing.action, missing.reason) == ("rejected", "the flow run no longer exists")


def test_nightly_rerun_deployment_matches_prefect_yaml(prefect_pool: PrefectPool) -> None:
    # Input: `prefect deployment inspect 'batch-rerun/nightly-rerun' --output json` after `prefect deploy --all`.
    spec = next(
        d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"] if d["name"] == "nightly-rerun"
    )
    shown = json.loads(
        prefect_pool.prefect("deployment", "inspect", "batch-rerun/nightly-rerun", "--output", "json").stdout
    )

    assert shown["entrypoint"] == "flows/batch_rerun.py:batch_rerun"
    assert shown["parameters"] == spec["parameters"] == {"mode": "retry-failed", "hours": 24, "limit": 20}
    assert shown["work_pool_name"] == prefect_pool.pool
    [schedule] = shown["schedules"]
    assert schedule["active"] is True
    assert schedule["schedule"]["cron"] == "30 3 * * *"
    assert schedule["schedule"]["timezone"] == "UTC"
    assert set(shown["parameter_openapi_schema"]["properties"]) == {
        "mode", "hours", "style", "limit", "dry_run", "deployment",
    }  # fmt: skip
