"""Director mode through the API on the real stack (Redis, Prefect server, the served deployments, bridge,
uvicorn): a review job is *suspended* (its process gone, no runner slot held) in ``awaiting_review``; bad edits
are refused with 422 naming the field and change nothing; approve resumes it; after the render one clip is
regenerated and a version chosen."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from devtools.stack import Stack
from tests.stack import post_job


def _until(what: str, probe: Callable[[], Any], timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _status(api: httpx.Client, job_id: str) -> dict[str, Any]:
    r = api.get(f"/api/jobs/{job_id}")
    r.raise_for_status()
    return dict(r.json())


def _flow_run(stack: Stack, run_id: str) -> dict[str, Any]:
    r = httpx.get(f"{stack.prefect_api_url}/flow_runs/{run_id}", timeout=10)
    r.raise_for_status()
    return dict(r.json())


def test_review_edit_approve_regenerate_choose(api: httpx.Client, stack: Stack, short_song: Path) -> None:
    created = post_job(api, short_song, "origami cranes over a city", review="true")
    assert created.status_code == 201, created.text
    job_id, run_id = created.json()["job_id"], created.json()["flow_run_id"]

    status = _until("awaiting_review", lambda: (s := _status(api, job_id))["status"] == "awaiting_review" and s)
    suspended = _until("the run suspended", lambda: (r := _flow_run(stack, run_id))["state"]["name"] == "Suspended"
                       and r)  # fmt: skip
    assert suspended["state"]["type"] == "PAUSED"  # suspended: the flow's process exited, no slot is held
    assert not status["clips_ready"]  # no clip generated before approval

    board = api.get(f"/api/jobs/{job_id}/storyboard").json()
    assert board["estimate"]["clips"] == len(board["clips"]) >= 3
    # a regeneration while the job is in review is refused
    early = api.post(f"/api/jobs/{job_id}/clips/0/regenerate", json={"variants": 1})
    assert early.status_code == 422 and "still running" in early.json()["detail"]

    # bad edits: a cut off the beat, a clip shorter than 3 s, fewer than 3 clips; each 422, nothing stored
    off_beat = {**board, "cuts": [board["cuts"][0] + 0.123, *board["cuts"][1:]]}
    next_beat = min(b for b in board["beats"] if b > board["cuts"][0] + 0.1)  # a beat, but a clip of < 1 s
    short = {**board, "cuts": [board["cuts"][0], next_beat, *board["cuts"][2:]]}
    few = {**board, "cuts": [], "clips": board["clips"][:1]}
    for bad, field in ((off_beat, "cuts"), (short, "clips"), (few, "clips")):
        r = api.put(f"/api/jobs/{job_id}/storyboard", json=bad)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"][0] == field, r.json()
    assert api.get(f"/api/jobs/{job_id}/storyboard").json() == board

    # structural edits on a 13 s song of ~4 s clips: merging clips 0 and 1 (> 7 s) and splitting clip 0 (< 3 s
    # halves) are refused naming the clip; an unknown op is a 422 too; nothing is stored
    edits = f"/api/jobs/{job_id}/storyboard/edits"
    for op, field in (({"op": "merge", "clip": 0}, "clips"), ({"op": "split", "clip": 0}, "clips"),
                      ({"op": "split", "clip": 99}, "clip"), ({"op": "shuffle", "clip": 0}, "body")):  # fmt: skip
        r = api.post(edits, json=op)
        assert r.status_code == 422, (op, r.text)
        assert r.json()["errors"][0]["loc"][0] == field, (op, r.json())
    assert api.get(f"/api/jobs/{job_id}/storyboard").json() == board
    # a locked clip refuses a new prompt until it is unlocked (unlocking alone is an edit)
    r = api.post(edits, json={"op": "lock", "clip": 0})
    assert r.status_code == 200 and r.json()["clips"][0]["locked"], r.text
    reprompt = r.json()
    reprompt["clips"][0]["prompt"] = "a different clip 0"
    r = api.put(f"/api/jobs/{job_id}/storyboard", json=reprompt)
    assert r.status_code == 422 and "clip 0 is locked" in r.json()["detail"], r.text
    assert api.post(edits, json={"op": "unlock", "clip": 0}).json()["clips"][0]["locked"] is False

    edited = dict(board)
    edited["clips"] = [dict(c) for c in board["clips"]]
    edited["clips"][0]["prompt"] = "one paper crane in the rain"
    r = api.put(f"/api/jobs/{job_id}/storyboard", json=edited)
    assert r.status_code == 200, r.text
    assert api.post(f"/api/jobs/{job_id}/approve").status_code == 200

    _until("complete", lambda: _status(api, job_id)["status"] == "complete", timeout=400)
    prompts = api.get(f"/api/jobs/{job_id}/prompts").json()
    assert prompts[0]["prompt"] == "one paper crane in the rain"

    n = len(board["clips"])
    assert api.post(f"/api/jobs/{job_id}/clips/1/regenerate", json={"variants": 50}).status_code == 422
    assert api.post(f"/api/jobs/{job_id}/clips/{n}/regenerate", json={"variants": 1}).status_code == 422
    assert api.post(f"/api/jobs/{job_id}/clips/1/regenerate", json={"variants": 1, "seed": 7}).status_code == 200
    versions = _until("the new version", lambda: (r := api.get(f"/api/jobs/{job_id}/clips/1/versions")).status_code
                      == 200 and len(r.json()["versions"]) == 2 and r.json(), timeout=300)  # fmt: skip
    assert versions["versions"][1]["seed"] == 7
    _until("complete after regenerate", lambda: _status(api, job_id)["status"] == "complete")
    assert api.post(f"/api/jobs/{job_id}/clips/1/choose", json={"version": 9}).status_code == 422
    assert api.post(f"/api/jobs/{job_id}/clips/1/choose", json={"version": 1}).status_code == 200
    _until("chosen", lambda: api.get(f"/api/jobs/{job_id}/clips/1/versions").json()["chosen"] == 1, timeout=300)
    _until("complete after choose", lambda: _status(api, job_id)["status"] == "complete")
    assert api.get(f"/api/jobs/{job_id}/video").status_code == 200
