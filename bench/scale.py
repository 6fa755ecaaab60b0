"""Scaling out, offline: jobs per minute with 1 vs 2 workers, and the per-clip speed-up of a Dask cluster.

    uv run python -m bench.scale [--jobs 4] [--limit 2] [--seconds 20] [--repeats 2] [--song PATH]
                                 [--out bench/results/scale.json]

a) Throughput. Per configuration a `prefect server start` of its own (fresh PREFECT_HOME, result store and data
   dir), prefect.yaml deployed to the `videogen` process pool (devtools.workers.PrefectPool), then 1 or 2 workers
   with ``--limit`` concurrent flow runs each ("a worker = a machine of capacity --limit"). All ``--jobs`` runs of
   `music-video/music-video` are submitted at once; each has its own prompt and its own copy of the song (a
   different tag, so different bytes), so no stage is a cache hit. Latency = the run's end - its creation (queueing
   included); "runs taken" comes from the workers' logs ("submitting flow run" minus "Aborted submission": both
   workers may try to claim a run, the server lets one have it). On one machine both workers share its CPUs: a
   second worker adds flow-run slots, not cores.
b) Per-clip speed-up. One song + prompt rendered in this process against a server, with the thread pool
   (clip_parallelism 2) and with a Dask LocalCluster of 2 single-threaded worker processes, each with an empty data
   dir and result store, ``--repeats`` times alternately; the fastest of each is shown. "video s" is the video stage
   of JobResult.stages; the Dask wall includes starting the cluster.
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # this process's flow runs; workers log at INFO
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, cast  # noqa: E402
from uuid import UUID  # noqa: E402

from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.objects import FlowRun  # noqa: E402
from prefect.deployments import run_deployment  # noqa: E402
from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH, temporary_settings  # noqa: E402
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner  # noqa: E402
from prefect_dask.task_runners import DaskTaskRunner  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from core.media import cut_audio, probe, run_ffmpeg  # noqa: E402
from core.settings import get_settings  # noqa: E402
from devtools.workers import PrefectPool, prefect_server  # noqa: E402
from flows.music_video import music_video  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SONG = Path(os.environ.get("VIDEOGEN_TESTDATA", ROOT.parent / "shared" / "testdata")) / "music"
DEFAULT_SONG = DEFAULT_SONG / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
DEPLOYMENT = "music-video/music-video"
SUBJECTS = [
    "a dancer in a neon city at night, synthwave",
    "paper boats drifting down a rainy canal, watercolor",
    "a fox running through a glowing forest at dawn",
    "astronauts skateboarding on the moon, retro comic",
    "a lighthouse in a storm, oil painting",
    "jellyfish floating through a cathedral of light",
]
SPEEDUP_PROMPT = "a robot drummer on a rooftop at sunset"
SUBMITTED = re.compile(r"Worker '[^']+' submitting flow run '([0-9a-f-]{36})'")
ABORTED = re.compile(r"Aborted submission of flow run '([0-9a-f-]{36})'")  # another worker claimed it first


def job_songs(song: Path, seconds: float, n: int, work: Path) -> list[Path]:
    """An excerpt of ``song`` and ``n`` copies of it that differ only in a tag: same work, different bytes."""
    work.mkdir(parents=True, exist_ok=True)
    base = work / "excerpt.mp3"
    base.unlink(missing_ok=True)  # --seconds may differ from the last run
    cut_audio(song, base, seconds=seconds, quality=4)
    copies = []
    for i in range(n):
        out = work / f"job{i}.mp3"
        run_ffmpeg(["-i", str(base), "-map", "0:a", "-c", "copy", "-metadata", f"comment=bench job {i}", str(out)])
        copies.append(out)
    return copies


def _wait_terminal(ids: list[UUID], timeout: float) -> list[FlowRun]:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            if time.monotonic() > deadline:
                states = [r.state.name if r.state else None for r in runs]
                raise SystemExit(f"runs not finished after {timeout:.0f} s: {states}")
            time.sleep(0.5)


def _job(i: int, song: Path) -> dict[str, Any]:
    return {"audio_uri": song.as_uri(), "prompt": f"{SUBJECTS[i % len(SUBJECTS)]}, take {i}"}


def throughput(pool: PrefectPool, songs: list[Path], *, workers: int, limit: int, timeout: float) -> dict[str, Any]:
    """Start ``workers`` workers of capacity ``limit``, submit one run per song at once, wait for all of them."""
    names = [f"worker-{i + 1}" for i in range(workers)]
    for name in names:
        pool.start_worker(name, limit=limit)
    with temporary_settings({PREFECT_API_URL: pool.api_url}):
        started = time.perf_counter()
        ids = [
            cast(FlowRun, run_deployment(DEPLOYMENT, parameters=_job(i, song), timeout=0)).id
            for i, song in enumerate(songs)
        ]
        runs = _wait_terminal(ids, timeout)
        wall = time.perf_counter() - started
    latencies = [(r.end_time - r.created).total_seconds() for r in runs if r.end_time and r.created]
    queued = [(r.start_time - r.created).total_seconds() for r in runs if r.start_time and r.created]
    wanted = {str(i) for i in ids}
    taken: dict[str, int] = {}
    for name in names:
        log = pool.processes.log(name, tail=10**8)
        taken[name] = len(wanted & (set(SUBMITTED.findall(log)) - set(ABORTED.findall(log))))
    for name in names:
        pool.kill_worker(name)
    return {
        "workers": workers,
        "limit": limit,
        "jobs": len(songs),
        "completed": sum(r.state is not None and r.state.is_completed() for r in runs),
        "wall_s": round(wall, 1),
        "jobs_per_min": round(len(songs) / wall * 60, 2),
        "latency_mean_s": round(statistics.fmean(latencies), 1),
        "latency_max_s": round(max(latencies), 1),
        "queued_max_s": round(max(queued), 1),
        "runs_taken": taken,
    }


def speedup_run(pool: PrefectPool, song: Path, label: str, runner: TaskRunner[Any], work: Path) -> dict[str, Any]:
    """One render in this process with ``runner``, an empty data dir and an empty Prefect result store."""
    os.environ["VIDEOGEN_DATA_DIR"] = str(work / "data")  # before the cluster starts: Dask workers inherit it
    get_settings.cache_clear()
    # prefect_server: this process's events go to this configuration's server, not the one before
    with prefect_server(pool.api_url), temporary_settings({PREFECT_LOCAL_STORAGE_PATH: work / "results"}):
        started = time.perf_counter()
        result = music_video.with_options(task_runner=runner)(audio_uri=song.as_uri(), prompt=SPEEDUP_PROMPT)
        wall = time.perf_counter() - started
    stages = {s.stage: s for s in result.stages}
    assert not any(s.cached for s in result.stages), "a stage was reused from a cache"
    return {
        "runner": label,
        "clips": len(result.clips),
        "clips_ok": sum(c.status == "succeeded" for c in result.clips),
        "video_s": stages["video"].seconds,
        "compose_s": stages["compose"].seconds,
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--song", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the excerpt cut from --song")
    parser.add_argument("--jobs", type=int, default=4, help="runs submitted at once per configuration")
    parser.add_argument("--limit", type=int, default=2, help="concurrent flow runs per worker")
    parser.add_argument("--timeout", type=float, default=900.0, help="per configuration")
    parser.add_argument("--repeats", type=int, default=2, help="renders per runner in b); the fastest is shown")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    args = parser.parse_args()
    console = Console(width=140)
    cpus = os.cpu_count() or 1
    logging.getLogger("distributed").setLevel(logging.ERROR)  # "Worker process still alive … killing" at close
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": cpus,
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
        "song": args.song.name,
        "seconds": args.seconds,
        "throughput": [],
        "speedup": [],
    }
    original_data_dir = os.environ.get("VIDEOGEN_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix="videogen-scale-") as tmp_name:
        tmp = Path(tmp_name)
        songs = job_songs(args.song, args.seconds, args.jobs, tmp / "songs")
        song_s = probe(songs[0]).duration
        pool: PrefectPool | None = None
        try:
            for workers in (1, 2):
                console.print(f"[dim]{workers} worker(s): server + deploy + {args.jobs} jobs …[/]")
                pool = PrefectPool(tmp / f"pool-{workers}").start()
                pool.deploy_all()
                row = throughput(pool, songs, workers=workers, limit=args.limit, timeout=args.timeout)
                report["throughput"].append(row)
                if workers == 1:
                    pool.stop()
                    pool = None
            assert pool is not None
            console.print("[dim]per-clip speed-up: threads vs Dask LocalCluster …[/]")
            runners: list[tuple[str, Callable[[], TaskRunner[Any]]]] = [
                ("threads (clip_parallelism 2)", lambda: ThreadPoolTaskRunner(max_workers=2)),
                ("Dask LocalCluster (2 processes)", lambda: DaskTaskRunner(cluster_kwargs={
                    "n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None})),
            ]  # fmt: skip
            samples: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in runners}
            for r in range(args.repeats):  # alternating, so a burst of outside load hits both runners alike
                for i, (label, make) in enumerate(runners):
                    work = tmp / f"speedup-{r}-{i}"
                    samples[label].append(speedup_run(pool, songs[0], label, make(), work))
            for runs in samples.values():
                best = min(runs, key=lambda run: run["video_s"])
                report["speedup"].append({**best, "wall_s": min(run["wall_s"] for run in runs), "samples": runs})
        finally:
            if pool is not None:
                pool.stop()
            if original_data_dir is None:
                os.environ.pop("VIDEOGEN_DATA_DIR", None)
            else:
                os.environ["VIDEOGEN_DATA_DIR"] = original_data_dir
            get_settings.cache_clear()

    a = Table(title=f"a) {args.jobs} jobs at once on `{DEPLOYMENT}`, {song_s:.1f} s song, offline, {cpus} CPUs")
    for col in ("workers × limit", "done", "wall s", "jobs/min", "latency mean s", "latency max s",
                "max queued s", "runs taken"):  # fmt: skip
        a.add_column(col, justify="left" if col in ("workers × limit", "runs taken") else "right")
    for row in report["throughput"]:
        taken = ", ".join(f"{k}: {v}" for k, v in row["runs_taken"].items())
        a.add_row(f"{row['workers']} × {row['limit']}", f"{row['completed']}/{row['jobs']}", f"{row['wall_s']:.1f}",
                  f"{row['jobs_per_min']:.2f}", f"{row['latency_mean_s']:.1f}", f"{row['latency_max_s']:.1f}",
                  f"{row['queued_max_s']:.1f}", taken)  # fmt: skip
    one, two = report["throughput"]
    report["throughput_ratio"] = round(two["jobs_per_min"] / one["jobs_per_min"], 2)
    b = Table(
        title=f"b) one job, {song_s:.1f} s song: per-clip tasks on threads vs a Dask LocalCluster "
        f"(best of {args.repeats})"
    )
    for col in ("runner", "clips ok", "video s", "compose s", "wall s", "video vs threads"):
        b.add_column(col, justify="left" if col == "runner" else "right")
    threads = report["speedup"][0]
    for row in report["speedup"]:
        ratio = threads["video_s"] / row["video_s"]
        row["video_speedup"] = round(ratio, 2)
        b.add_row(row["runner"], f"{row['clips_ok']}/{row['clips']}", f"{row['video_s']:.1f}",
                  f"{row['compose_s']:.1f}", f"{row['wall_s']:.1f}", f"{ratio:.2f}×")  # fmt: skip
    report["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    console.print(a)
    console.print(
        f"2 workers vs 1: {report['throughput_ratio']:.2f}× jobs/min"
        + (f" (one machine: both workers share its {cpus} CPUs)" if cpus <= 2 else "")
    )
    console.print(b)
    console.print(
        f"1-min load average before / after: {report['load_avg_1m_before']} / {report['load_avg_1m_after']} "
        "(anything else running on the box shares these CPUs)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"written {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
