"""Load and abuse replay (issue 11): ``uv run python -m bench.abuse``.

Starts redis-server and the API (uvicorn) on free loopback ports, with Prefect pointed at a closed loopback port:
nothing here needs a flow to run. Then replays, each bounded in count and the whole run in time (``--deadline``):

    websockets     300 sockets on one job (cap 100 per job): 4429 beyond it; events appended meanwhile must reach
                   every accepted socket, in order, once
    text parts     a chunked POST of 2,500 text parts of 60 KB: 413 before it is buffered
    NUL prompt     a NUL byte in the prompt: 422 at once
    bad token      non-ASCII bearer tokens: 401
    corrupt        corrupt, truncated (VBR header says 61.5 s) and non-audio uploads: 415 / 422, no server path
    bad ws input   last_event_id past 2^64 and binary frames: 4400 / ignored
    origin         POST and WS from a foreign Origin: 403
    assets NUL     /assets/%00: 404

and prints one table: requests tried, refused as expected, 5xx, lost events, orphan files, and the API's memory
(RSS) before and after. Loopback only; every process it starts is stopped by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import redis
from rich.console import Console
from rich.table import Table

from core.media import cut_audio
from devtools.stack import ROOT, free_port, redis_server_command

TOKEN = "abuse-token"
SONG = ROOT.parent / "shared/testdata/music/Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
if not SONG.exists():
    SONG = ROOT / "assets/demo/Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
LEAK = re.compile(r"(?<![\w.])/(?:tmp|work|root|home|usr|var|srv)/|upload\.part|://|\b[A-Z]\w*(?:Error|Exception)\b")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Row:
    case: str
    tried: int = 0
    refused: int = 0  # answered as expected (a refusal, or a delivery for the socket case)
    server_errors: int = 0
    lost: int = 0
    leaks: int = 0


class Target:
    def __init__(self, root: Path) -> None:
        self.root, self.redis_port, self.port = root, free_port(), free_port()
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "VIDEOGEN_DATA_DIR": str(self.root / "data"), "VIDEOGEN_API__TOKEN": TOKEN,
               "VIDEOGEN_API__REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
               "VIDEOGEN_API__WS_MAX_PER_CLIENT": "400",
               "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}  # fmt: skip
        self.procs.append(subprocess.Popen(redis_server_command(self.redis_port), stdout=subprocess.DEVNULL))
        log = open(self.root / "api.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
             "--port", str(self.port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/limits", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the API did not start:\n" + (self.root / "api.log").read_text()[-3000:])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def rss_mb(self) -> float:
        with open(f"/proc/{self.procs[1].pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024

    def redis(self) -> redis.Redis:
        return redis.Redis(port=self.redis_port)

    def fake_job(self) -> str:
        job_id = str(uuid4())
        r = self.redis()
        r.hset(f"jobs:{job_id}:meta", mapping={"job_id": job_id, "prompt": "abuse", "flow_run_id": ""})
        r.zadd("jobs:index", {job_id: time.time()})
        self.append(job_id, "queued", 0)
        return job_id

    def append(self, job_id: str, status: str, n: int) -> None:
        event = {"job_id": job_id, "stage": "job", "status": status, "progress": n, "message": f"step {n}"}
        self.redis().xadd(f"jobs:{job_id}:events", {"data": json.dumps(event)})

    def orphans(self) -> int:
        return sum(1 for _ in (self.root / "data" / "jobs").glob("*/input/*"))


def _check(row: Row, r: httpx.Response, expected: set[int]) -> None:
    row.tried += 1
    row.refused += r.status_code in expected
    row.server_errors += r.status_code >= 500
    row.leaks += bool(r.status_code >= 400 and LEAK.search(r.text))


async def websockets_case(t: Target, sockets: int) -> Row:
    from websockets.asyncio.client import connect

    row = Row("websockets (300 on one job)")
    job_id = t.fake_job()
    url = f"ws://127.0.0.1:{t.port}/ws/jobs/{job_id}"
    opened = [await connect(url, subprotocols=["bearer", TOKEN], open_timeout=20) for _ in range(sockets)]  # type: ignore[list-item]
    await asyncio.sleep(1)
    async with httpx.AsyncClient(base_url=t.url, headers=AUTH, timeout=20) as http:
        for path in (f"/api/jobs/{job_id}", "/api/jobs", "/api/limits") * 10:  # the other routes, meanwhile
            _check(row, await http.get(path), {200})
    for n in range(1, 11):
        t.append(job_id, "running", n)
    t.append(job_id, "complete", 100)
    expected = ["step 0", *(f"step {n}" for n in range(1, 11)), "step 100"]

    async def drain(ws: object) -> list[str]:
        got: list[str] = []
        with contextlib.suppress(Exception):
            async for raw in ws:  # type: ignore[attr-defined]
                got.append(json.loads(raw)["event"]["message"])
        return got

    received = await asyncio.wait_for(asyncio.gather(*(drain(ws) for ws in opened)), timeout=60)
    for ws, got in zip(opened, received, strict=True):
        row.tried += 1
        if ws.close_code == 4429:
            row.refused += 1
        elif ws.close_code == 1000:
            row.refused += 1  # followed to the end, as expected
            row.lost += len(set(expected) - set(got)) + (len(got) - len(set(got)))
        else:
            row.server_errors += 1
    return row


def text_parts_case(t: Target) -> Row:
    row = Row("text parts (2,500 x 60 KB, chunked)")
    boundary = "B0undary"
    part = f'--{boundary}\r\nContent-Disposition: form-data; name="style"\r\n\r\n'.encode() + b"x" * 60_000 + b"\r\n"
    head = (f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    reply = b""
    with socket.create_connection(("127.0.0.1", t.port), timeout=20) as sock:
        sock.sendall(head.encode())
        with contextlib.suppress(OSError):
            for _ in range(2500):
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                reply += data
                if reply.rstrip().endswith(b"}"):
                    break
    row.tried, row.refused = 1, int(reply.startswith(b"HTTP/1.1 413"))
    row.server_errors = int(reply.startswith(b"HTTP/1.1 5"))
    return row


def requests_cases(t: Target, song: Path, vbr_cut: bytes, n: int) -> list[Row]:
    rows = []
    audio = song.read_bytes()
    with httpx.Client(base_url=t.url, headers=AUTH, timeout=60) as http:
        row = Row("NUL / control chars in fields")
        for i in range(n):
            field = ("prompt", "style", "mood")[i % 3]
            data = {"prompt": "neon city", field: f"neon\x00city {i}"}
            _check(row, http.post("/api/jobs", files={"audio": ("s.mp3", audio)}, data=data), {422})
        rows.append(row)
        row = Row("non-ASCII bearer token")
        for i in range(n):
            value = ("Bearer ñ".encode(), "Bearer 令牌".encode(), b"Bearer \xff")[i % 3]
            _check(row, httpx.get(f"{t.url}/api/jobs", headers={b"Authorization": value}), {401})
        rows.append(row)
        row = Row("corrupt / truncated / non-audio uploads")
        cases = [(audio[:2048], {422}), (b"ID3\x03" + os.urandom(30_000), {422}), (b"not audio\n" * 100, {415}),
                 (vbr_cut, {422}), (b"", {422})]  # fmt: skip
        for i in range(n):
            content, expected = cases[i % len(cases)]
            _check(row, http.post("/api/jobs", files={"audio": ("s.mp3", content)}, data={"prompt": "p"}), expected)
        rows.append(row)
        row = Row("foreign Origin POST")
        for _ in range(n):
            r = http.post("/api/jobs", headers={"Origin": "https://evil.example"},
                          files={"audio": ("s.mp3", audio)}, data={"prompt": "p"})  # fmt: skip
            _check(row, r, {403})
        rows.append(row)
        row = Row("/assets/%00 (no token)")
        for _ in range(n):
            _check(row, httpx.get(f"{t.url}/assets/%00"), {404})
        rows.append(row)
    return rows


def ws_input_case(t: Target, n: int) -> Row:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    row = Row("bad WS input (id > 2^64, binary, Origin)")
    job_id = t.fake_job()
    base = f"ws://127.0.0.1:{t.port}/ws/jobs/{job_id}?token={TOKEN}"
    for i in range(n):
        row.tried += 1
        try:
            if i % 3 == 0:
                with connect(f"{base}&last_event_id=99999999999999999999-0", open_timeout=10) as ws:
                    with contextlib.suppress(Exception):
                        ws.recv(timeout=10)
                    row.refused += ws.close_code == 4400
            elif i % 3 == 1:
                with connect(base, open_timeout=10) as ws:
                    ws.recv(timeout=10)
                    ws.send(b"\x00\xffbinary")
                    ws.send("text")
                    ws.ping().wait(5)  # still open and answering after the junk
                    row.refused += 1
            else:
                try:
                    connect(base, origin="https://evil.example", open_timeout=10).close()  # type: ignore[arg-type]
                except InvalidStatus as exc:
                    row.refused += exc.response.status_code == 403
        except Exception:  # noqa: BLE001 - counted, not raised: the table is the result
            row.server_errors += 1
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30, help="requests per request case")
    parser.add_argument("--deadline", type=float, default=240, help="seconds for the whole run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="videogen-abuse-") as tmp:
        root = Path(tmp)
        song = cut_audio(SONG, root / "song.mp3", start=20, seconds=8)
        vbr = cut_audio(SONG, root / "vbr.mp3", start=0, seconds=61.5, quality=4).read_bytes()
        target = Target(root)
        target.start()
        started = time.monotonic()
        try:
            before = target.rss_mb()
            rows = [asyncio.run(asyncio.wait_for(websockets_case(target, args.sockets), timeout=args.deadline / 2))]
            rows.append(text_parts_case(target))
            if time.monotonic() - started < args.deadline:
                rows += requests_cases(target, song, vbr[: len(vbr) * 3 // 10], args.requests)
            if time.monotonic() - started < args.deadline:
                rows.append(ws_input_case(target, args.requests))
            after = target.rss_mb()
            orphans = target.orphans()
        finally:
            target.stop()
    table = Table(title=f"bench.abuse: loopback, {time.monotonic() - started:.0f} s")
    for col in ("case", "tried", "refused as expected", "5xx", "lost events", "leaks"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in rows:
        table.add_row(r.case, str(r.tried), str(r.refused), str(r.server_errors), str(r.lost), str(r.leaks))
    total = Row("total", *(sum(getattr(r, f) for r in rows) for f in ("tried", "refused", "server_errors", "lost",
                                                                       "leaks")))  # fmt: skip
    table.add_row(total.case, str(total.tried), str(total.refused), str(total.server_errors), str(total.lost),
                  str(total.leaks), style="bold")  # fmt: skip
    console = Console()
    console.print(table)
    console.print(
        f"orphan files under jobs/: {orphans}    API memory (RSS): {before:.0f} MB before, {after:.0f} MB after"
    )


if __name__ == "__main__":
    main()
