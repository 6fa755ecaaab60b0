"""The operator's path on real processes: `prefect deploy --all` to the `videogen` process pool, `prefect deployment
run` rendering a video on a worker, a failed run retried the way the Prefect UI does it (only the failed clip is
generated again), and a worker killed with SIGKILL mid-run whose run finishes on another worker (on another
"machine": its own scratch directory, sharing only the S3 bucket and the Prefect server)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import boto3
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.states import AwaitingRetry

from core.contracts import JobResult
from core.media import cut_audio, probe
from core.settings import StorageSettings
from devtools.workers import MotoS3, PrefectPool
from providers.storage.lifecycle import ensure_bucket
from tests.ops.scripted import read_calls

DEPLOYMENT = "music-video/music-video"
TERMINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}
SCRIPTED = {
    "VIDEOGEN_PROVIDERS__VIDEO": "tests.ops.scripted:ScriptedVideo",
    "VIDEOGEN_PROVIDERS__PLANNER": "tests.ops.scripted:ScriptedPlanner",
    "VIDEOGEN_PROVIDERS__REFERENCE": "tests.ops.scripted:ScriptedReference",
}


@pytest.fixture(scope="module")
def song(vibe_ace: Path, session_dir: Path) -> Path:
    """13 s of Vibe Ace: 3-4 clips."""
    return cut_audio(vibe_ace, session_dir / "ops-worker-song.mp3", start=30, seconds=13)


@pytest.fixture()
def bucket(moto_s3: MotoS3) -> dict[str, str]:
    """A fresh bucket for one test: the S3 settings every worker of the test gets."""
    name = f"w-{uuid.uuid4().hex[:12]}"
    env = {**moto_s3.env(), "VIDEOGEN_STORAGE__BUCKET": name}
    ensure_bucket(StorageSettings(bucket=name, endpoint_url=moto_s3.endpoint_url, access_key_id="testing",
                                  secret_access_key="testing"))  # fmt: skip
    return env


@pytest.fixture()
def workers(on_pool: PrefectPool) -> Iterator[list[str]]:
    """Names of the workers a test starts; all are stopped after it."""
    names: list[str] = []
    yield names
    for name in names:
        on_pool.kill_worker(name, signal.SIGTERM)


def _start(pool: PrefectPool, names: list[str], tag: str, **env: str) -> str:
    name = f"{tag}-{uuid.uuid4().hex[:6]}"
    pool.start_worker(name, limit=None, **env)
    names.append(name)
    return name


def _deploy_run(parameters: dict[str, Any]) -> FlowRun:
    """A flow run of the render deployment, scheduled for a worker (timeout=0: do not wait)."""
    return cast(FlowRun, run_deployment(DEPLOYMENT, parameters=parameters, timeout=0))


def _flow_run(flow_run_id: UUID) -> FlowRun:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def _wait(flow_run_id: UUID, done: Any = lambda fr: fr.state_type in TERMINAL, timeout: float = 420) -> FlowRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _flow_run(flow_run_id)
        if done(run):
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {flow_run_id} still {run.state_name} after {timeout} s")


def _result(env: dict[str, str], job_id: str) -> JobResult:
    """The job's result.json, read from the bucket as the API would."""
    s3 = boto3.client("s3", endpoint_url=env["VIDEOGEN_STORAGE__ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    body = s3.get_object(Bucket=env["VIDEOGEN_STORAGE__BUCKET"], Key=f"jobs/{job_id}/final/result.json")["Body"]
    return JobResult.model_validate_json(body.read())


def _retry_like_the_ui(flow_run_id: UUID) -> None:
    """What the Prefect UI's Retry button sends (prefect notes §12): AwaitingRetry, not forced."""
    with get_client(sync_client=True) as client:
        reply: Any = client.set_flow_run_state(flow_run_id, AwaitingRetry(message="Retry from the UI"), force=False)
    assert reply.status.value == "ACCEPT", reply.details


def test_scheduled_deployment_is_registered_with_its_cron(on_pool: PrefectPool) -> None:
    """Input tried: the deployments `prefect deploy --all` created from prefect.yaml."""
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("batch-rerun/nightly-rerun")
        render = client.read_deployment_by_name(DEPLOYMENT)
    assert [s.schedule.cron for s in nightly.schedules] == ["30 3 * * *"]  # type: ignore[union-attr]
    assert all(s.active for s in nightly.schedules)
    assert nightly.work_pool_name == render.work_pool_name == on_pool.pool
    assert "allow_partial" in (render.parameter_openapi_schema or {})["properties"]


def test_deployment_run_from_the_cli_renders_a_video(on_pool: PrefectPool, workers: list[str], song: Path) -> None:
    """Input tried: `prefect deployment run 'music-video/music-video' --param audio_uri=… --param prompt=… --watch`
    with one worker on the pool and the default (local) storage; the job id defaults to the flow run id."""
    _start(on_pool, workers, "cli")
    done = on_pool.prefect("deployment", "run", DEPLOYMENT, "--param", f"audio_uri={song.as_uri()}",
                           "--param", "prompt=a lighthouse in a storm, oil painting", "--watch",
                           "--watch-timeout", "400", timeout=450)  # fmt: skip
    run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", done.stdout)
    assert run_id, done.stdout
    run = _flow_run(UUID(run_id.group(1)))
    assert run.state_type == StateType.COMPLETED, run.state
    video = on_pool.root / "data" / "jobs" / str(run.id) / "final" / "final.mp4"
    info = probe(video)
    assert (info.width, info.height, round(info.fps)) == (1920, 1080, 30)
    assert abs(info.duration - 13.0) < 0.1


def test_retry_from_the_ui_regenerates_only_the_failed_clip(
    on_pool: PrefectPool, workers: list[str], song: Path, bucket: dict[str, str], tmp_path: Path
) -> None:
    """Input tried: a render with allow_partial=false whose clip 1 is refused by the video model. The run fails
    after every other stage is done; the refusal is lifted and the run is retried as the UI does it. Provider calls
    are counted across both attempts: clip 1 twice, everything else once."""
    script = tmp_path / "script"
    script.mkdir()
    (script / "fail-1").touch()
    _start(on_pool, workers, "retry", **bucket, **SCRIPTED, VIDEOGEN_SCRIPT_DIR=str(script),
           VIDEOGEN_DATA_DIR=str(tmp_path / "machine-a"))  # fmt: skip
    job_id = f"retry-{uuid.uuid4().hex[:8]}"
    params = {"audio_uri": song.as_uri(), "prompt": "koi in a moonlit pond", "job_id": job_id, "allow_partial": False}
    run = _deploy_run(params)
    failed = _wait(run.id)
    assert failed.state_type == StateType.FAILED, failed.state
    first = read_calls(script)
    clips = {i for kind, i, _ in first if kind == "video"}
    assert Counter(kind for kind, _, _ in first) == {"plan": 1, "reference": 1, "video": len(clips)}
    assert 1 in clips and len(clips) >= 3

    (script / "fail-1").unlink()
    _retry_like_the_ui(run.id)
    done = _wait(run.id)
    assert done.state_type == StateType.COMPLETED, done.state
    assert done.run_count == 2 and done.id == run.id
    again = read_calls(script)[len(first) :]
    assert [(kind, i) for kind, i, _ in again] == [("video", 1)]  # nothing else was generated again
    result = _result(bucket, job_id)
    assert all(c.status == "succeeded" for c in result.clips) and len(result.clips) == len(clips)
    cached = {s.stage for s in result.stages if s.cached}
    assert cached >= {"audio", "plan", "reference", "prompts"}


def test_worker_killed_mid_run_finishes_on_another_worker(
    on_pool: PrefectPool, workers: list[str], song: Path, bucket: dict[str, str], tmp_path: Path
) -> None:
    """Input tried: worker A (its own scratch dir) renders slowly (2 s per clip, one clip at a time); once at least
    one clip task has completed, A and its flow run are killed with SIGKILL. The zombie automation marks the run
    Crashed when its heartbeats stop; `prefect flow-run retry` reschedules it, and worker B, on another scratch dir,
    sharing only S3 and the server, finishes it. Clips finished on A are not generated again."""
    script = tmp_path / "script"
    script.mkdir()
    common = {**bucket, **SCRIPTED, "VIDEOGEN_SCRIPT_DIR": str(script), "VIDEOGEN_SCRIPT_DELAY": "2",
              "VIDEOGEN_CLIP_PARALLELISM": "1"}  # fmt: skip
    a = _start(on_pool, workers, "machine-a", **common, VIDEOGEN_DATA_DIR=str(tmp_path / "machine-a"))
    job_id = f"kill-{uuid.uuid4().hex[:8]}"
    run = _deploy_run({"audio_uri": song.as_uri(), "prompt": "glass birds over dunes", "job_id": job_id})

    def finished_clips() -> set[int]:
        with get_client(sync_client=True) as client:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
        return {int(t.name.rsplit("-", 1)[1]) for t in tasks
                if t.name.startswith("video_generator-") and t.state_type == StateType.COMPLETED}  # fmt: skip

    deadline = time.monotonic() + 300
    while not finished_clips():
        assert time.monotonic() < deadline, "no clip finished on worker A"
        state = _flow_run(run.id)
        assert state.state_type is None or state.state_type not in TERMINAL, state.state
        time.sleep(0.5)
    running = _flow_run(run.id)
    on_pool.kill_worker(a, signal.SIGKILL)  # the worker's process group: the worker and its flow run
    if running.infrastructure_pid:  # "host:pid" of the flow run subprocess, should it have its own group
        pid = int(str(running.infrastructure_pid).rsplit(":", 1)[-1])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    before = finished_clips()
    calls_before = read_calls(script)
    pids_a = {pid for _, _, pid in calls_before}
    video_calls = [i for kind, i, _ in calls_before if kind == "video"]
    assert _flow_run(run.id).state_type == StateType.RUNNING  # nobody told the server: the run looks alive
    # its heartbeats stop: the zombie automation (videogen infra apply-automations) marks it Crashed
    crashed = _wait(run.id, timeout=180)
    message = crashed.state.message if crashed.state else ""
    assert crashed.state_type == StateType.CRASHED and "heartbeat" in (message or ""), crashed.state

    _start(on_pool, workers, "machine-b", **common, VIDEOGEN_DATA_DIR=str(tmp_path / "machine-b"))
    on_pool.prefect("flow-run", "retry", str(run.id))  # the CLI's retry: rescheduled for any worker of the pool
    done = _wait(run.id)
    assert done.state_type == StateType.COMPLETED, done.state

    after = read_calls(script)[len(calls_before) :]
    regenerated = {i for kind, i, _ in after if kind == "video"}
    assert regenerated and not (regenerated & before), (before, regenerated)  # finished clips were reused
    assert all(pid not in pids_a for _, _, pid in after)  # everything after the kill ran on machine B
    assert not [k for k, _, _ in after if k in ("plan", "reference")]  # upstream stages came from S3 results
    result = _result(bucket, job_id)
    assert all(c.status == "succeeded" for c in result.clips)
    assert {c.index for c in result.clips} == set(video_calls) | regenerated
    assert not (tmp_path / "machine-b" / "jobs").exists()  # B's disk is scratch: the job lives in the bucket


def test_two_workers_share_one_pool(on_pool: PrefectPool, workers: list[str]) -> None:
    """Input tried: two worker processes on the `videogen` pool, one run slot each (`--limit 1`, as if each were a
    small machine), and three cheap flow runs (the nightly batch, dry run) submitted at once. Every run completes and
    both workers execute runs: no run is lost or run twice."""
    names = []
    for tag in ("pool-a", "pool-b"):
        name = f"{tag}-{uuid.uuid4().hex[:6]}"
        on_pool.start_worker(name, limit=1)
        workers.append(name)
        names.append(name)
    runs = [cast(FlowRun, run_deployment("batch-rerun/nightly-rerun", parameters={"dry_run": True, "hours": 0.01},
                                         timeout=0)) for _ in range(3)]  # fmt: skip
    finished = [_wait(run.id, timeout=240) for run in runs]
    assert all(r.state_type == StateType.COMPLETED for r in finished), [r.state for r in finished]
    assert all(r.run_count == 1 for r in finished)
    took = {name: {str(r.id) for r in runs if _submitted(on_pool, name, r.id)} for name in names}
    assert all(took.values()), took  # both workers ran something
    assert set().union(*took.values()) == {str(r.id) for r in runs} and sum(map(len, took.values())) == 3


def _submitted(pool: PrefectPool, worker: str, flow_run_id: UUID) -> bool:
    """The worker's log says it submitted the run and did not abort the submission (another worker won the race)."""
    log = pool.processes.log(worker, tail=200_000)
    started = re.search(rf"[Ss]ubmitting flow run '{flow_run_id}'", log) is not None
    aborted = re.search(rf"[Aa]borted submission of flow run '{flow_run_id}'", log) is not None
    return started and not aborted
