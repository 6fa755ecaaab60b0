"""API gateway benchmark: ``uv run python -m bench.api``.

Starts the real local stack (redis-server, prefect server, served deployment, bridge, uvicorn) on free ports, posts
a 13 s song, connects 50 WebSocket clients to it while 5 more jobs are created, and reports

* event latency: task ``emit`` (the ProgressEvent's timestamp, set just before ``emit_event``) -> WebSocket client,
  over every live event of every client (history replayed at connect is excluded);
* job-create latency: POST /api/jobs (multipart upload + validation + flow run creation) -> 201.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets
from rich.console import Console
from rich.table import Table

from core.contracts import ProgressEvent
from core.media import run_ffmpeg
from devtools.stack import ROOT, Stack

CLIENTS = 50
EXTRA_JOBS = 5
SONG = Path(ROOT.parent / "shared/testdata/music/Kevin_MacLeod_-_Vibe_Ace.hq.ogg")
if not SONG.exists():
    SONG = ROOT / "assets/demo/Kevin_MacLeod_-_Vibe_Ace.hq.ogg"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def client(stack: Stack, job_id: str, latencies: list[float], counts: list[int]) -> None:
    connected = datetime.now(UTC)
    n = 0
    async with websockets.connect(f"{stack.ws_url}/ws/jobs/{job_id}", max_queue=None) as ws:
        async for raw in ws:
            now = datetime.now(UTC)
            event = ProgressEvent.model_validate_json(raw)
            n += 1
            if event.timestamp >= connected:  # live, not history replayed at connect
                latencies.append((now - event.timestamp).total_seconds() * 1000)
    counts.append(n)


async def post(http: httpx.AsyncClient, song: bytes, prompt: str) -> tuple[str, float]:
    started = time.perf_counter()
    r = await http.post("/api/jobs", files={"audio": ("song.mp3", song, "audio/mpeg")}, data={"prompt": prompt})
    elapsed = (time.perf_counter() - started) * 1000
    r.raise_for_status()
    return r.json()["job_id"], elapsed


async def run(stack: Stack, song: bytes) -> tuple[list[float], list[float], list[int], float]:
    latencies: list[float] = []
    creates: list[float] = []
    counts: list[int] = []
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
        job_id, ms = await post(http, song, "a neon city at night, synthwave")
        creates.append(ms)
        started = time.perf_counter()
        clients = [asyncio.create_task(client(stack, job_id, latencies, counts)) for _ in range(CLIENTS)]
        for i in range(EXTRA_JOBS):
            _, ms = await post(http, song, f"extra job {i}")
            creates.append(ms)
        await asyncio.wait_for(asyncio.gather(*clients), timeout=600)
        wall = time.perf_counter() - started
    return latencies, creates, counts, wall


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="videogen-bench-api-") as tmp:
        root = Path(tmp)
        song = root / "song.mp3"
        run_ffmpeg(
            ["-i", str(SONG), "-ss", "20", "-t", "13", "-map", "0:a", "-c:a", "libmp3lame", "-q:a", "6", str(song)]
        )
        stack = Stack(root / "stack")
        console.print("starting redis, prefect server, served deployment, bridge, API ...")
        t0 = time.perf_counter()
        stack.start()
        console.print(f"stack ready in {time.perf_counter() - t0:.1f} s")
        try:
            latencies, creates, counts, wall = asyncio.run(run(stack, song.read_bytes()))
        finally:
            stack.stop()
    table = Table(title=f"API gateway: {CLIENTS} WebSocket clients on one job, {EXTRA_JOBS + 1} jobs created")
    for col in ("metric", "n", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="right" if col != "metric" else "left")
    table.add_row("event latency: task emit -> WS client", str(len(latencies)), f"{statistics.median(latencies):.1f}",
                  f"{pct(latencies, 95):.1f}", f"{max(latencies):.1f}")  # fmt: skip
    table.add_row("job create: POST /api/jobs -> 201", str(len(creates)), f"{statistics.median(creates):.1f}",
                  f"{pct(creates, 95):.1f}", f"{max(creates):.1f}")  # fmt: skip
    console.print(table)
    console.print(f"events per client: {min(counts)}-{max(counts)} ({len(counts)} clients reached the final event); "
                  f"job wall time with clients attached: {wall:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
