"""End to end through the real stack: POST -> flow run on the served deployment -> events -> WS / GET -> video."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import httpx
import pytest

from core.media import probe
from core.stages import STAGE_IDS as STAGES
from devtools.stack import Stack
from tests.stack import TOKEN, flow_run_count, post_job, ws_events, ws_messages

pytestmark = pytest.mark.slow


def _stage_order(events: list[dict]) -> list[str]:
    seen: list[str] = []
    for e in events:
        if e["stage"] != "job" and e["stage"] not in seen:
            seen.append(e["stage"])
    return seen


@pytest.fixture(scope="module")
def finished_job(stack: Stack, api: httpx.Client, short_song: Path) -> tuple[str, list[dict]]:
    r = post_job(api, short_song, prompt="a fox running through a neon forest", style="watercolor", mood="dreamy")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "queued"
    job_id = body["job_id"]
    events = ws_events(stack, job_id)
    return job_id, events


def test_websocket_streams_stages_in_order_to_complete(finished_job: tuple[str, list[dict]], api: httpx.Client,
                                                       stack: Stack, tmp_path: Path) -> None:  # fmt: skip
    job_id, events = finished_job
    assert events[0]["status"] == "queued"
    assert events[-1]["stage"] == "job" and events[-1]["status"] == "complete"
    assert _stage_order(events) == list(STAGES)
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-")))) and len(set(ids)) == len(ids)
    assert all(e["job_id"] == job_id for e in events)

    status = api.get(f"/api/jobs/{job_id}").json()
    assert status["status"] == "complete" and status["progress"] == 100
    assert set(status["cost"]["by_stage"]) == set(STAGES)
    assert status["last_event_id"] == ids[-1]
    # the socket's last message carries the same folded status (one fold, on the server)
    (last,) = ws_messages(stack, job_id, last_event_id=ids[-2])
    assert last["event"]["event_id"] == ids[-1] and last["status"]["status"] == "complete"
    assert [v["state"] for v in last["status"]["stages"]] == [v["state"] for v in status["stages"]]

    video = api.get(f"/api/jobs/{job_id}/video")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    out = tmp_path / "final.mp4"
    out.write_bytes(video.content)
    info = probe(out)
    assert info.video_codec == "h264" and (info.width, info.height) == (1920, 1080)
    assert abs(info.duration - 13.0) < 0.5

    part = api.get(f"/api/jobs/{job_id}/video", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"].startswith("bytes 0-99/")

    mov = api.get(f"/api/jobs/{job_id}/video", params={"format": "mov"})
    assert mov.status_code == 200 and mov.headers["content-type"] == "video/quicktime"
    (tmp_path / "final.mov").write_bytes(mov.content)
    assert probe(tmp_path / "final.mov").video_codec == "h264"

    clips = api.get(f"/api/jobs/{job_id}/clips").json()
    assert clips["complete"] and len(clips["clips"]) >= 3
    first = api.get(clips["clips"][0]["url"])
    assert first.status_code == 200 and first.headers["content-type"] == "video/mp4"

    # the sync report: one entry per cut of the video, at the cut's time, measured against the song's beats
    composition = api.get(f"/api/jobs/{job_id}/composition").json()
    assert len(composition["sync"]) == len(clips["clips"]) - 1
    assert [c["time"] for c in composition["sync"]] == composition["cuts"]
    assert all(c["beat_offset_ms"] is not None for c in composition["sync"])

    listed = api.get("/api/jobs").json()["jobs"]
    assert job_id in [j["job_id"] for j in listed]


def test_late_client_gets_full_history_and_final_state(stack: Stack, finished_job: tuple[str, list[dict]]) -> None:
    job_id, events = finished_job
    again = ws_events(stack, job_id)
    assert again == events
    tail = ws_events(stack, job_id, last_event_id=events[-4]["event_id"])
    assert tail == events[-3:]
    assert ws_events(stack, job_id, last_event_id=events[-1]["event_id"]) == []


def test_reconnect_mid_job_gets_every_event_once(stack: Stack, api: httpx.Client, short_song: Path) -> None:
    r = post_job(api, short_song, prompt="rainy rooftops, slow dolly, film grain", mood="melancholic")
    job_id = r.json()["job_id"]
    received: list[dict] = []
    last: str | None = None
    for chunk in (3, 4, 5):  # disconnect after a few events each time, resume from the last one seen
        part = ws_events(stack, job_id, last_event_id=last, limit=chunk)
        received += part
        last = received[-1]["event_id"]
        if received[-1]["status"] in ("complete", "error"):
            break
    received += ws_events(stack, job_id, last_event_id=last)
    full = ws_events(stack, job_id)
    assert received == full
    assert full[-1]["status"] == "complete"
    assert len({e["event_id"] for e in received}) == len(received)


def test_polling_only(stack: Stack, api: httpx.Client, short_song: Path) -> None:
    job_id = post_job(api, short_song, prompt="desert highway at dawn").json()["job_id"]
    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = api.get(f"/api/jobs/{job_id}").json()
        seen.append(status["status"])
        if status["status"] in ("complete", "error"):
            break
        time.sleep(0.5)
    assert status["status"] == "complete", status
    assert status["video_url"] == f"/api/jobs/{job_id}/video"
    assert api.get(status["video_url"]).status_code == 200
    assert seen[0] in ("queued", "processing")


def test_failed_flow_reports_error_with_stage(stack: Stack, api: httpx.Client, short_song: Path,
                                              silent_wav: Path) -> None:  # fmt: skip
    # The upload refuses a silent song (tests/api/test_upload.py), so the song turns silent once accepted: the flow
    # run reads it seconds later (the runner polls each second, then starts a process that imports the flow).
    r = post_job(api, short_song, prompt="silence")
    assert r.status_code == 201, r.text
    job_id = r.json()["job_id"]
    stored = stack.data_dir / "jobs" / job_id / "input" / "audio.mp3"
    swap = stored.with_name("swap.part")
    swap.write_bytes(silent_wav.read_bytes())
    swap.replace(stored)
    events = ws_events(stack, job_id)
    assert events[-1]["status"] == "error" and events[-1]["stage"] == "job"
    failed = [e for e in events if e["status"] == "failed"]
    assert failed and failed[0]["stage"] == "audio" and "silent" in failed[0]["message"].lower()
    status = api.get(f"/api/jobs/{job_id}").json()
    assert status["status"] == "error"
    assert status["error"]["stage"] == "audio" and "silent" in status["error"]["message"].lower()
    assert api.get(f"/api/jobs/{job_id}/video").status_code == 409
    assert api.get(f"/api/jobs/{job_id}/composition").status_code == 409  # nothing was composed


# --------------------------------------------------------------------------- bad input: 4xx JSON, no flow run


def _problem(r: httpx.Response, status: int, needle: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and needle.lower() in body["detail"].lower(), body


def test_bad_input_starts_nothing(stack: Stack, api: httpx.Client, short_song: Path, silent_wav: Path) -> None:
    before = flow_run_count(stack)
    dirs_before = set((stack.data_dir / "jobs").glob("*"))
    mp3 = short_song.read_bytes()
    _problem(post_job(api, b"this is not a song\n" * 50), 415, "not a supported audio file")
    _problem(post_job(api, mp3[:2048]), 422, "truncated or corrupt")
    _problem(post_job(api, b""), 422, "empty")
    _problem(post_job(api, silent_wav), 422, "silent")
    _problem(post_job(api, short_song, prompt=None), 422, "prompt")
    _problem(post_job(api, short_song, prompt="x" * 2001), 422, "limit")
    _problem(post_job(api, short_song, duration_hint="-3"), 422, "duration_hint")
    _problem(api.post("/api/jobs", data={"prompt": "no file"}), 415, "multipart")
    _problem(api.post("/api/jobs", files={"other": ("a.txt", b"x")}, data={"prompt": "p"}), 422, "audio")
    _problem(api.get("/api/jobs/5f0c0f51-8a3c-4b0e-9d7e-1c6b1b1b1b1b"), 404, "no job")
    _problem(api.get("/api/jobs/not-a-uuid"), 422, "uuid")
    _problem(api.get("/api/jobs/5f0c0f51-8a3c-4b0e-9d7e-1c6b1b1b1b1b/clips/0"), 404, "no job")
    wrong = httpx.post(f"{stack.api_url}/api/jobs", headers={"Authorization": "Bearer nope"},
                       files={"audio": ("s.mp3", mp3)}, data={"prompt": "p"})  # fmt: skip
    _problem(wrong, 401, "token")
    _problem(httpx.get(f"{stack.api_url}/api/jobs"), 401, "token")
    assert flow_run_count(stack) == before
    assert set((stack.data_dir / "jobs").glob("*")) == dirs_before  # refused uploads leave no files


def test_oversized_upload_is_refused_before_it_is_read(stack: Stack) -> None:
    """Chunked body (no Content-Length): the server answers 413 after ~1 MB although the client never finishes."""
    before = flow_run_count(stack)
    boundary = "XyZ"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nbig\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"big.mp3\"\r\n"
            "Content-Type: audio/mpeg\r\n\r\n").encode()  # fmt: skip
    request = (f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode()  # fmt: skip
    chunk = b"ID3" + b"\0" * (256 * 1024 - 3)
    with socket.create_connection(("127.0.0.1", stack.api_port), timeout=20) as sock:
        sock.sendall(request + b"%x\r\n%s\r\n" % (len(head), head))
        for _ in range(6):  # 1.5 MB of a declared-unbounded upload; the limit is 1 MB; then stop sending
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"exceeds the 1 MB limit" in reply
    assert flow_run_count(stack) == before


def test_websocket_auth_and_unknown_job(stack: Stack) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as err:
        connect(f"{stack.ws_url}/ws/jobs/5f0c0f51-8a3c-4b0e-9d7e-1c6b1b1b1b1b?token=wrong", open_timeout=10)
    assert err.value.response.status_code == 403
    with connect(f"{stack.ws_url}/ws/jobs/5f0c0f51-8a3c-4b0e-9d7e-1c6b1b1b1b1b?token={TOKEN}") as ws:
        with contextlib.suppress(Exception):
            ws.recv(timeout=10)
        assert ws.close_code == 4404


def test_healthz(stack: Stack) -> None:
    r = httpx.get(f"{stack.api_url}/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "prefect": True, "redis": True, "deployment": True, "details": {}}


def test_bridge_and_api_restart_mid_job_lose_nothing(stack: Stack, api: httpx.Client, short_song: Path) -> None:
    """Kill the bridge and the API while a job runs; after restart the stream has every stage once, in order."""
    import sys

    job_id = post_job(api, short_song, prompt="bridge restart: lighthouse in a storm").json()["job_id"]
    first = ws_events(stack, job_id, limit=2)
    stack.kill("bridge")
    stack.kill("api")
    time.sleep(6)  # the flow keeps emitting while nobody listens
    stack.restart("bridge", [sys.executable, "-m", "api.bridge"])
    stack.restart("api", [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                          "--port", str(stack.api_port), "--log-level", "warning"])  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{stack.api_url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    rest = ws_events(stack, job_id, last_event_id=first[-1]["event_id"], timeout=60)
    events = first + rest
    assert events == ws_events(stack, job_id)
    assert events[-1]["status"] == "complete"
    assert _stage_order(events) == list(STAGES)
    messages = [(e["stage"], e["status"], e["message"], e["clip_index"]) for e in events]
    assert len(messages) == len(set(messages))  # no event twice


def test_bad_lyrics_are_refused_and_start_nothing(stack: Stack, api: httpx.Client, short_song: Path) -> None:
    """Lyrics fields that are whitespace-free binary-ish (a C0 control), 30 kB of text, LRC timed past the
    short song, and captions=sparkle: 422 each, naming the problem, and no flow run or job folder appears."""
    before = flow_run_count(stack)
    dirs_before = set((stack.data_dir / "jobs").glob("*"))
    _problem(post_job(api, short_song, lyrics="la la\x01\x02"), 422, "control characters")
    _problem(post_job(api, short_song, lyrics="la la la\n" * 3400), 422, "the limit is 20,000")
    _problem(post_job(api, short_song, lyrics="[00:01.00]one\n[59:00.00]late\n"), 422, "beyond the song")
    _problem(post_job(api, short_song, lyrics="fine", captions="sparkle"), 422, "captions")
    r = post_job(api, short_song, lyrics="[00:01.00]one\n[59:00.00]late\n")
    assert r.json()["error"] == "invalid_lyrics", r.text
    assert flow_run_count(stack) == before
    assert set((stack.data_dir / "jobs").glob("*")) == dirs_before
