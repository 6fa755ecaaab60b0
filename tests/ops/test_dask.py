"""Per-clip tasks on a Dask cluster: the flow against the suite's real Prefect server (Dask needs one: prefect
notes §4), with a LocalCluster of 2 single-threaded worker processes, and the settings that choose the runner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect_dask.task_runners import DaskTaskRunner

from core.media import cut_audio, probe
from core.settings import get_settings
from core.uris import to_path
from devtools.workers import PrefectPool
from flows.music_video import clip_task_runner, music_video
from tests import pidvideo

LOCAL_CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None}


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Environment changes seen by get_settings() here and by processes started later (Dask workers read theirs
    at spawn); undone, and the settings rebuilt, afterwards."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def _runner(env: pytest.MonkeyPatch, **variables: str) -> Any:
    for name, value in variables.items():
        env.setenv(name, value)
    get_settings.cache_clear()
    return clip_task_runner()


@pytest.fixture(scope="module")
def song14(vibe_ace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 14 s of Vibe Ace as MP3: enough for >= 3 clips."""
    return cut_audio(vibe_ace, tmp_path_factory.mktemp("dask-song") / "vibe14.mp3", seconds=14, quality=4)


def test_clips_run_in_two_dask_worker_processes(
    on_pool: PrefectPool, song14: Path, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Input: 14 s of Vibe Ace with a fresh prompt, through `music_video` with a DaskTaskRunner LocalCluster of 2
    single-threaded worker processes, against the ops suite's `prefect server start`; an empty data dir; the video
    provider `tests.pidvideo:PidVideo` (offline renderer that writes the pid rendering each clip), selected by its
    module:Class spec so the worker processes resolve it too. Expected: the song-long video, every clip rendered,
    by >= 2 processes, none of them this test process."""
    pids = tmp_path / "pids"
    env.setenv("VIDEOGEN_DATA_DIR", str(tmp_path / "data"))
    env.setenv("VIDEOGEN_PROVIDERS__VIDEO", pidvideo.TARGET)  # a "module:Class" spec resolves in every process
    env.setenv(pidvideo.PID_DIR, str(pids))
    get_settings.cache_clear()
    runner: TaskRunner[Any] = DaskTaskRunner(cluster_kwargs=LOCAL_CLUSTER)

    result = music_video.with_options(task_runner=runner)(
        audio_uri=song14.as_uri(), prompt=f"paper boats on a rainy canal, take {uuid.uuid4()}"
    )

    video = to_path(result.output_uri)
    assert video.is_relative_to(tmp_path / "data")
    assert abs(probe(video).duration - probe(song14).duration) <= 0.1
    assert len(result.clips) >= 3
    assert all(c.status == "succeeded" and c.provider == pidvideo.NAME for c in result.clips), result.clips
    by_clip = pidvideo.recorded(pids)
    assert sorted(by_clip) == [c.index for c in result.clips]
    assert len(set(by_clip.values())) >= 2, by_clip
    assert os.getpid() not in by_clip.values()


def test_dask_address_selects_the_existing_cluster(env: pytest.MonkeyPatch) -> None:
    """Input: VIDEOGEN_TASK_RUNNER=dask, VIDEOGEN_DASK_ADDRESS=tcp://10.1.2.3:8786. Expected: a DaskTaskRunner that
    connects to that scheduler (no LocalCluster)."""
    runner = _runner(env, VIDEOGEN_TASK_RUNNER="dask", VIDEOGEN_DASK_ADDRESS="tcp://10.1.2.3:8786")
    assert isinstance(runner, DaskTaskRunner)
    assert runner.address == "tcp://10.1.2.3:8786"


def test_dask_without_address_starts_a_local_cluster(env: pytest.MonkeyPatch) -> None:
    """Input: VIDEOGEN_TASK_RUNNER=dask, VIDEOGEN_DASK_WORKERS=3, no address. Expected: a LocalCluster of 3
    single-threaded processes."""
    runner = _runner(env, VIDEOGEN_TASK_RUNNER="dask", VIDEOGEN_DASK_WORKERS="3")
    assert isinstance(runner, DaskTaskRunner)
    assert runner.address is None
    assert runner.cluster_kwargs == {**LOCAL_CLUSTER, "n_workers": 3}


@pytest.mark.parametrize(
    ("variables", "threads"),
    [({}, 2), ({"VIDEOGEN_CLIP_PARALLELISM": "5"}, 5), ({"VIDEOGEN_TASK_RUNNER": "threads"}, 2)],
    ids=["default", "parallelism-5", "threads-explicit"],
)
def test_threads_bounded_by_clip_parallelism(env: pytest.MonkeyPatch, variables: dict[str, str], threads: int) -> None:
    """Input: no runner variables / VIDEOGEN_CLIP_PARALLELISM=5 / VIDEOGEN_TASK_RUNNER=threads (a stray
    VIDEOGEN_DASK_ADDRESS is set each time and must be ignored). Expected: a ThreadPoolTaskRunner with
    max_workers = clip_parallelism."""
    env.delenv("VIDEOGEN_TASK_RUNNER", raising=False)
    env.delenv("VIDEOGEN_CLIP_PARALLELISM", raising=False)
    runner = _runner(env, VIDEOGEN_DASK_ADDRESS="tcp://10.1.2.3:8786", **variables)
    assert isinstance(runner, ThreadPoolTaskRunner)
    assert runner._max_workers == threads == get_settings().clip_parallelism
