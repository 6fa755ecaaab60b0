"""The web UI in real headless chromium against the real stack: upload a song with its lyrics, watch it render
live (through a WebSocket outage), play it with the lyrics as captions and download the result."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from core.media import probe
from core.stages import STAGES
from devtools.stack import Stack
from tests.stack import TOKEN, ws_events

pytestmark = pytest.mark.slow

# Every WebSocket the page opens is recorded; while __blockWs is set new ones go to a closed port and fail before
# opening, as when the API is unreachable.
SOCKET_SPY = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__blockWs = false;
  function Spy(url, protocols) {
    const ws = new Native(window.__blockWs ? 'ws://127.0.0.1:9/blocked' : url, protocols);
    window.__sockets.push(ws);
    return ws;
  }
  Spy.prototype = Native.prototype;
  Object.assign(Spy, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Spy;
})();
"""

PAGE_STATE = """() => ({
  status: document.querySelector('[data-testid=job-status]')?.dataset.status ?? null,
  stages: Object.fromEntries([...document.querySelectorAll('[data-testid=stage-progress] [data-stage]')]
                             .map(e => [e.dataset.stage, e.dataset.state])),
  clips: document.querySelectorAll('[data-testid=clip-preview]').length,
  video: !!document.querySelector('[data-testid=final-video]'),
  cost: document.querySelector('[data-testid=cost-total]')?.dataset.value ?? null,
  connection: document.querySelector('[data-testid=connection]')?.dataset.connection ?? null,
})"""


# typed into the upload form: plain text, one lyric line per line
LYRICS = "Foxes in the neon light\nrunning through the forest night"


def _shot(page: Page, artifacts: Path, name: str, *, full: bool = True) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=full)


def _until(
    page: Page, predicate: Any, timeout: float, what: str, log: list[tuple[float, dict[str, Any]]]
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, Any] = page.evaluate(PAGE_STATE)
        log.append((time.monotonic(), state))
        if predicate(state):
            return state
        page.wait_for_timeout(150)
    raise AssertionError(f"timed out waiting for {what}; last state {log[-1][1] if log else None}")


def test_upload_follow_live_through_an_outage_play_and_export(
    stack: Stack, api: httpx.Client, browser: Browser, short_song: Path, artifacts: Path, tmp_path: Path
) -> None:
    song_seconds = probe(short_song).duration
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.add_init_script(f"localStorage.setItem('videogen.token', {json.dumps(TOKEN)});")
    context.add_init_script(SOCKET_SPY)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(stack.api_url + "/")
        expect(page.get_by_role("heading", name="Turn a song into a music video")).to_be_visible()
        _shot(page, artifacts, "01-home")

        limits = api.get("/api/limits")
        if limits.status_code == 200:  # once the gateway serves its limits, the form takes its numbers
            hint = page.get_by_test_id("duration-input")
            expect(hint).to_have_attribute("min", f"{limits.json()['min_clip']:g}")
            expect(hint).to_have_attribute("max", f"{limits.json()['max_clip']:g}")
            expect(page.get_by_test_id("prompt-input")).to_have_attribute(
                "maxlength", str(limits.json()["max_prompt_chars"])
            )

        # the form refuses to submit without a prompt
        page.get_by_test_id("audio-input").set_input_files(str(short_song))
        expect(page.get_by_test_id("dropzone")).to_contain_text("0:13")
        page.get_by_test_id("submit").click()
        expect(page.get_by_text("Describe the video you want.")).to_be_visible()
        page.get_by_test_id("prompt-input").fill("a fox running through a neon forest, fireflies")
        page.get_by_test_id("style-input").fill("watercolor")
        page.get_by_test_id("mood-input").fill("dreamy")
        page.get_by_test_id("lyrics-input").fill(LYRICS)
        _shot(page, artifacts, "02-form-filled")
        page.get_by_test_id("submit").click()

        page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"), timeout=30_000)
        job_id = page.url.rsplit("/", 1)[1]
        expect(page.get_by_test_id("job-id")).to_have_text(job_id)
        log: list[tuple[float, dict[str, Any]]] = []

        # stages advance and cost appears
        _until(page, lambda s: s["stages"].get("audio") in ("done", "cached"), 120, "the audio stage", log)
        assert page.get_by_test_id("cost-total").is_visible()
        _shot(page, artifacts, "03-processing")

        # outage: kill the live socket and keep new ones failing -> the page polls GET /api/jobs/{id}
        page.evaluate("() => { window.__blockWs = true; window.__sockets.forEach(s => s.close(3000, 'test kill')); }")
        state = _until(page, lambda s: s["connection"] == "polling" or s["status"] == "complete", 30, "polling", log)
        assert state["connection"] == "polling", "the job ended before the outage could be observed"
        _shot(page, artifacts, "04-socket-down-polling", full=False)
        page.wait_for_timeout(2500)  # a few polls while the socket stays down
        page.evaluate("() => { window.__blockWs = false; }")

        final = _until(page, lambda s: s["status"] == "complete" and s["video"], 240, "the final video", log)
        assert final["status"] == "complete"
        assert not any(s["status"] == "error" for _, s in log)

        # clip previews appeared before the final video did
        first_clip = next(t for t, s in log if s["clips"] > 0)
        first_video = next(t for t, s in log if s["video"])
        assert first_clip < first_video
        # stages were seen advancing (some stage running or pending while others were done)
        assert any(set(s["stages"].values()) - {"done", "cached"} for _, s in log)
        assert all(v in ("done", "cached") for v in final["stages"].values())
        assert list(final["stages"]) == [s.id for s in STAGES]
        # the stages are the server's: its registry's titles, in its order
        titles = page.locator("[data-testid=stage-progress] .stage-title").all_inner_texts()
        assert titles == [s.title for s in STAGES]

        # after the outage the page resumed: every event exactly once, none missing
        history = ws_events(stack, job_id)
        conn = page.get_by_test_id("connection")
        expect(conn).to_have_attribute("data-last-event-id", history[-1]["event_id"])
        assert int(conn.get_attribute("data-events") or 0) == len(history)
        assert page.evaluate("() => window.__sockets.length") >= 3  # first, failed attempt(s), the resumed one

        # the page shows the server's fold: the same stages and cost as GET /api/jobs/{id}
        status = api.get(f"/api/jobs/{job_id}").json()
        assert final["stages"] == {s["id"]: s["state"] for s in status["stages"]}
        expect(page.get_by_test_id("cost-total")).to_have_attribute("data-value", f"{status['cost']['total']:.4f}")

        # the final video plays in the page with the song's length
        video = page.get_by_test_id("final-video")
        page.wait_for_function(
            "() => Number.isFinite(document.querySelector('[data-testid=final-video]')?.duration)", timeout=30_000
        )
        assert abs(video.evaluate("v => v.duration") - song_seconds) < 0.25
        assert video.evaluate("v => v.controls")
        expect(page.get_by_test_id("clip-preview")).to_have_count(
            len(api.get(f"/api/jobs/{job_id}/clips").json()["clips"])
        )
        expect(page.get_by_test_id("song-analysis")).to_be_visible()
        expect(page.get_by_test_id("storyboard-shot").first).to_be_visible()
        # the sync report draws the composer's own per-cut figures: one mark per cut, the count it states
        composition = api.get(f"/api/jobs/{job_id}/composition").json()
        cuts = composition["sync"]
        tolerance = composition["validation"]["beat_tolerance_ms"]
        expect(page.get_by_test_id("sync-cut")).to_have_count(len(cuts))
        off = [c for c in cuts if c["beat_offset_ms"] is None or abs(c["beat_offset_ms"]) > tolerance]
        verdict = f"{len(off)} of {len(cuts)} cuts more than" if off else f"All {len(cuts)} cuts within"
        expect(page.get_by_test_id("sync-verdict")).to_contain_text(verdict)
        downbeats = sum(c["on_downbeat"] for c in cuts)
        expect(page.get_by_test_id("sync-downbeats")).to_have_text(f"{downbeats} / {len(cuts)}")
        # the lyrics typed into the form come back as the player's captions (fetched with the token, as the video)
        page.wait_for_function(
            """() => { const t = document.querySelector('[data-testid=captions-track]');
                       return t && t.readyState === 2 && t.track.cues && t.track.cues.length > 0; }""",
            timeout=30_000,
        )
        cues = page.evaluate("() => [...document.querySelector('[data-testid=captions-track]').track.cues]"
                             ".map(c => c.text)")  # fmt: skip
        heard = re.sub(r"<[^>]*>", " ", " ".join(cues)).lower().split()
        assert heard == LYRICS.lower().split(), cues
        page.wait_for_timeout(500)
        _shot(page, artifacts, "05-complete")
        page.get_by_test_id("sync-report").screenshot(path=str(artifacts / "05b-sync-report.png"))

        # MP4 export downloads a valid file
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_test_id("export-mp4").click()
        mp4 = tmp_path / "export.mp4"
        dl.value.save_as(mp4)
        info = probe(mp4)
        assert info.video_codec == "h264" and (info.width, info.height) == (1920, 1080)
        assert abs(info.duration - song_seconds) < 0.25
        expect(page.get_by_test_id("export-mov")).to_be_visible()

        # the job page survives a reload; the recent list links to it; phone width works
        page.reload()
        expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "complete")
        expect(page.get_by_test_id("final-video")).to_be_visible()
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(500)
        _shot(page, artifacts, "06-complete-phone")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.get_by_role("link", name="New video").click()
        expect(page.get_by_test_id("recent-jobs").locator(f'a[href="/jobs/{job_id}"]')).to_be_visible()
        _shot(page, artifacts, "07-home-phone")
        assert not errors, errors
    finally:
        context.close()
