"""The remote path against the loopback fakes: sequential vs parallel clip generation, and N consecutive renders.

    uv run python -m bench.remote                      # 60 s song: sequential vs parallel, side by side
    uv run python -m bench.remote --renders 20         # issue 3 "done when": 20 renders at 20 % transient failures

Latency model of real clip generation: each prediction runs uniform(30, 150) s, scaled down by --scale (50: 0.6-3 s);
``metrics.predict_time`` reports the unscaled figure. Real Replicate clients, real Prefect (a temporary server),
real ffmpeg; only the vendors are fake.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="videogen-bench-remote-"))
for _k, _v in {"PREFECT_HOME": str(_TMP / "prefect"), "VIDEOGEN_DATA_DIR": str(_TMP / "data"),
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "ERROR",
               "VIDEOGEN_RETRY_BACKOFF": "0.5"}.items():  # fmt: skip
    os.environ.setdefault(_k, _v)

from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from core.media import probe, run_ffmpeg  # noqa: E402
from core.settings import get_settings  # noqa: E402
from devtools.fakes import Faults, serve_openai, serve_replicate  # noqa: E402
from devtools.fakes.pricing import openai_cost, replicate_cost  # noqa: E402
from flows.music_video import music_video  # noqa: E402
from providers.storage import get_storage  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "assets" / "demo" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
REMOTE = {"TRANSCRIPTION": "replicate", "PLANNER": "openai", "REFERENCE": "replicate", "PROMPTS": "openai",
          "VIDEO": "replicate"}  # fmt: skip


def _configure(rep_url: str, oai_url: str) -> None:
    for kind, name in REMOTE.items():
        os.environ[f"VIDEOGEN_PROVIDERS__{kind}"] = name
    os.environ.update(REPLICATE_API_TOKEN="r8_fake", VIDEOGEN_REPLICATE__BASE_URL=rep_url, OPENAI_API_KEY="sk-fake",
                      VIDEOGEN_OPENAI__BASE_URL=oai_url, VIDEOGEN_REPLICATE__POLL_INTERVAL="0.25")  # fmt: skip


def _song(seconds: float) -> Path:
    out = _TMP / f"song{seconds:g}.mp3"
    run_ffmpeg(["-i", str(SONG), "-t", str(seconds), "-map", "0:a", "-c:a", "libmp3lame", "-q:a", "4", str(out)])
    return out


def parallel_vs_sequential(console: Console, scale: float, song_seconds: float) -> None:
    song = _song(song_seconds)
    table = Table(title=f"{song_seconds:g} s song, clip latency 30-150 s / {scale:g} (fake Replicate)")
    for col in ("mode", "clips", "video stage s", "total wall s", "sum of predict_time / scale s", "cost USD"):
        table.add_column(col, justify="left" if col == "mode" else "right")
    with (
        serve_replicate(Faults(latency=30 / scale, latency_max=150 / scale, time_scale=scale, seed=7)) as (rep, ru),
        serve_openai() as (oai, ou),
    ):
        _configure(ru, ou)
        for label, workers, limit in (("sequential (1 worker, limit 1)", 1, 1), ("parallel (4 workers, limit 4)", 4, 4),
                                      ("parallel (8 workers, limit 8)", 8, 8)):  # fmt: skip
            os.environ["VIDEOGEN_CLIP_PARALLELISM"] = str(workers)
            os.environ["VIDEOGEN_REPLICATE__MAX_PARALLEL"] = str(limit)
            get_settings.cache_clear()
            rep.reset()
            flow = music_video.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))
            started = time.perf_counter()
            result = flow(audio_uri=song.as_uri(), prompt=f"neon dancer, {label} {uuid.uuid4()}")
            wall = time.perf_counter() - started
            video = next(s for s in result.stages if s.stage == "video")
            clip_calls = [c for c in rep.calls if c["model"] == result.clips[0].model]
            busy = sum(c["predict_time"] or 0 for c in clip_calls) / scale
            table.add_row(label, str(len(result.clips)), f"{video.seconds:.1f}", f"{wall:.1f}", f"{busy:.1f}",
                          f"{result.cost.total:.4f}")  # fmt: skip
    console.print(table)


def consecutive(console: Console, renders: int, fail_rate: float, song_seconds: float) -> None:
    song = _song(song_seconds)
    table = Table(title=f"{renders} consecutive renders, {song_seconds:g} s song, {fail_rate:.0%} transient failures")
    for col in ("#", "ok", "clips", "template prompts", "create errors", "predictions", "chat calls", "recorded USD",
                "calls x prices USD", "wall s"):  # fmt: skip
        table.add_column(col, justify="right")
    passed = 0
    with (
        serve_replicate(Faults(fail_rate=fail_rate, latency=0.2, latency_max=0.8, seed=11)) as (rep, ru),
        serve_openai(Faults(fail_rate=fail_rate, seed=12)) as (oai, ou),
    ):
        _configure(ru, ou)
        get_settings.cache_clear()
        for i in range(renders):
            rep.reset()
            oai.reset()
            started = time.perf_counter()
            try:
                result = music_video(audio_uri=song.as_uri(), prompt=f"render {i} {uuid.uuid4()}")
            except Exception as exc:  # noqa: BLE001 - a bench reports failures, it does not stop at them
                table.add_row(str(i + 1), "FAIL", "", "", "", "", "", "", "", f"{type(exc).__name__}: {exc}"[:60])
                continue
            wall = time.perf_counter() - started
            info = probe(get_storage().local(result.output_uri))
            expected = replicate_cost(rep.calls) + openai_cost(oai.calls)
            ok = (
                (info.width, info.height) == (1920, 1080)
                and abs(info.duration - result.audio.duration) <= 1 / 30 + 1e-3
                and all(c.status == "succeeded" for c in result.clips)
                and abs(result.cost.total - expected) <= 5e-4
            )
            passed += ok
            errors = len(rep.http_errors) + sum(1 for c in oai.calls if c["status"] != 200)
            template = sum(p.provider != "openai" for p in result.prompts)  # the writer failed for good: template
            cells = (len(result.clips), template, errors, len(rep.calls), len(oai.calls))
            table.add_row(str(i + 1), "yes" if ok else "NO", *map(str, cells), f"{result.cost.total:.4f}",
                          f"{expected:.4f}", f"{wall:.1f}")  # fmt: skip
    console.print(table)
    console.print(f"[bold]{passed}/{renders} renders complete with valid videos and cost == price table x calls[/]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renders", type=int, default=0, help="run N consecutive renders instead of the timing bench")
    ap.add_argument("--fail-rate", type=float, default=0.2)
    ap.add_argument("--scale", type=float, default=50.0, help="divide the 30-150 s clip latency by this")
    ap.add_argument("--seconds", type=float, default=None, help="song length (default 60 timing, 14 renders)")
    a = ap.parse_args()
    console = Console(width=140)
    with prefect_test_harness(server_startup_timeout=180):
        if a.renders:
            consecutive(console, a.renders, a.fail_rate, a.seconds or 14)
        else:
            parallel_vs_sequential(console, a.scale, a.seconds or 60)


if __name__ == "__main__":
    main()
