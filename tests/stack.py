"""The real local stack, shared by every suite that needs it (tests/api, tests/web): one per test session.

redis-server, `prefect server start`, the served deployment, the bridge and uvicorn, all on free loopback ports
(devtools/stack.py). Cold start ≈ 30 s. Registered by ``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from websockets.sync.client import connect

from core.media import cut_audio
from devtools.stack import Stack

TOKEN = "test-token"
MAX_UPLOAD_MB = 1.0


@pytest.fixture(scope="session")
def stack(session_dir: Path) -> Iterator[Stack]:
    s = Stack(
        session_dir / "stack",
        env_extra={"VIDEOGEN_API__TOKEN": TOKEN, "VIDEOGEN_API__MAX_UPLOAD_MB": str(MAX_UPLOAD_MB)},
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def short_song(vibe_ace: Path, session_dir: Path) -> Path:
    """13 s of Vibe Ace as MP3 (~200 KB): renders in ~15-25 s, under the test upload limit."""
    return cut_audio(vibe_ace, session_dir / "vibe13.mp3", start=20, seconds=13, quality=6)


@pytest.fixture(scope="session")
def silent_wav(session_dir: Path) -> Path:
    out = session_dir / "silent.wav"
    sf.write(out, np.zeros(10 * 22050, dtype=np.float32), 22050)
    return out


def post_job(
    api: httpx.Client, audio: Path | bytes, prompt: str | None = "neon city at night", **fields: str
) -> httpx.Response:
    data = dict(fields)
    if prompt is not None:
        data["prompt"] = prompt
    content = audio if isinstance(audio, bytes) else audio.read_bytes()
    name = "song.mp3" if isinstance(audio, bytes) else audio.name
    return api.post("/api/jobs", files={"audio": (name, content, "audio/mpeg")}, data=data)


def ws_events(stack: Stack, job_id: str, *, last_event_id: str | None = None, limit: int | None = None,
              timeout: float = 180) -> list[dict[str, Any]]:  # fmt: skip
    """The events of the socket's messages (see :func:`ws_messages`)."""
    return [m["event"] for m in ws_messages(stack, job_id, last_event_id=last_event_id, limit=limit, timeout=timeout)]


def ws_messages(stack: Stack, job_id: str, *, last_event_id: str | None = None, limit: int | None = None,
                timeout: float = 180) -> list[dict[str, Any]]:  # fmt: skip
    """Read ``{event, status}`` messages until the server closes (after the terminal event) or ``limit`` arrived."""
    url = f"{stack.ws_url}/ws/jobs/{job_id}?token={TOKEN}"
    if last_event_id:
        url += f"&last_event_id={last_event_id}"
    out: list[dict[str, Any]] = []
    with connect(url, open_timeout=10) as ws:
        try:
            for raw in iter(lambda: ws.recv(timeout=timeout), None):
                out.append(json.loads(raw))
                if limit is not None and len(out) >= limit:
                    break
        except Exception as exc:  # ConnectionClosedOK at the end of the stream
            if "ConnectionClosed" not in type(exc).__name__:
                raise
    return out


def flow_run_count(stack: Stack) -> int:
    r = httpx.post(f"{stack.prefect_api_url}/flow_runs/count", json={}, timeout=10)
    r.raise_for_status()
    return int(r.json())
