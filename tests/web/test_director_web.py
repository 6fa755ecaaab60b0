"""Director mode in Chromium against the real stack: upload with "Review the storyboard", the editor appears with
no clip generated, a split the clip limits refuse is explained, a clip is locked, a cut steps to the next beat,
a prompt, the style and a palette colour are edited, Approve renders it; then a clip is regenerated as a variant
shown beside the first render and "Use this one" recomposes. Screenshots in test-artifacts/web/director-*.png."""

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

        # Split clip 1 of this 13 s song (~4 s clips): the halves would be < 3 s, so the server refuses it, the
        # page says why and nothing changes. Lock clip 3: its prompt and buttons are disabled, the lock is stored
        # and survives the edits below.
        cards.nth(0).get_by_test_id("clip-split").click()
        expect(page.get_by_test_id("storyboard-error")).to_contain_text("clips are 3-7 s")
        assert api.get(f"/api/jobs/{job_id}/storyboard").json()["cuts"] == board["cuts"]
        last = cards.nth(len(board["clips"]) - 1)
        last.get_by_test_id("clip-lock").click()  # not check(): the box turns once the server has stored the lock
        expect(last.get_by_test_id("clip-lock")).to_be_checked()
        expect(last.get_by_test_id("clip-prompt")).to_be_disabled()
        expect(last.get_by_test_id("clip-split")).to_be_disabled()
        expect(page.get_by_test_id("storyboard-error")).to_have_count(0)
        assert api.get(f"/api/jobs/{job_id}/storyboard").json()["clips"][-1]["locked"] is True
        page.screenshot(path=str(artifacts / "director-01b-locked.png"), full_page=True)

        handle = page.get_by_test_id("cut-handle").first
        before = float(handle.get_attribute("data-time") or 0)
        handle.get_by_role("button", name="move cut 1 to the next beat").click()
        after = float(handle.get_attribute("data-time") or 0)
        assert after > before and any(abs(after - b) < 1e-3 for b in board["beats"])  # snapped to a beat
        page.get_by_test_id("clip-prompt").nth(1).fill("one red kite against a grey sky")
        # the look of every clip: a new style and a first palette colour
        page.get_by_test_id("style-edit").fill("watercolor")
        page.get_by_test_id("palette-colour").first.fill("#ff8800")
        page.get_by_test_id("approve").click()
        expect(page.get_by_test_id("final-video")).to_be_visible(timeout=300_000)
        prompts = api.get(f"/api/jobs/{job_id}/prompts").json()
        assert prompts[1]["prompt"] == "one red kite against a grey sky"
        assert api.get(f"/api/jobs/{job_id}/storyboard").json()["clips"][-1]["locked"] is True
        style = api.get(f"/api/jobs/{job_id}/plan").json()["style"]
        assert (style["visual_style"], style["palette"][0].lower()) == ("watercolor", "#ff8800")
        assert all(p["visual_style"] == "watercolor" for p in prompts[:-1])  # the locked clip keeps its prompt
        timeline = api.get(f"/api/jobs/{job_id}/timeline").json()
        assert abs(timeline["slots"][1]["start"] - after) <= 1 / timeline["fps"]
        page.screenshot(path=str(artifacts / "director-02-rendered.png"), full_page=True)

        # Regenerate clip 2 (index 1) as one variant: the card keeps clip 2 while the job runs again, the new version
        # is clip 2's, and "Use this one" plays the recomposed video (a new player URL, not the old file replayed).
        director = page.get_by_test_id("clip-director")
        # by label: Playwright matches a bare "1" (or even value="1") against the labels too, and the label "1" is
        # the first clip (value 0): that was the "regenerate acts on clip 0" seen from this test, not the page
        director.get_by_test_id("regen-clip").select_option(label="2")
        director.get_by_test_id("regen-variants").fill("1")
        expect(director.get_by_test_id("regen-clip")).to_have_value("1")
        director.get_by_test_id("regenerate").click()
        expect(director.get_by_test_id("variant")).to_have_count(2, timeout=300_000)
        page.screenshot(path=str(artifacts / "director-03-variants.png"), full_page=True)
        assert director.get_by_test_id("regen-clip").input_value() == "1"
        versions = api.get(f"/api/jobs/{job_id}/clips/1/versions").json()
        assert [v["version"] for v in versions["versions"]] == [0, 1]  # v0: the first render
        assert api.get(f"/api/jobs/{job_id}/clips/0/versions").status_code == 404  # clip 1 never regenerated
        expect(page.get_by_test_id("final-video")).to_be_visible(timeout=300_000)
        played = page.get_by_test_id("final-video").get_attribute("src")
        director.get_by_test_id("use-version").click()
        expect(director.get_by_test_id("variant").nth(1).get_by_text("in use")).to_be_visible(timeout=300_000)
        video = page.get_by_test_id("final-video")
        expect(video).not_to_have_attribute("src", played or "", timeout=300_000)  # the recomposed file, not a replay
        assert api.get(f"/api/jobs/{job_id}/clips/1/versions").json()["chosen"] == 1
        assert not errors, errors
    finally:
        context.close()
