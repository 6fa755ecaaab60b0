"""Output formats: one home for the frame size (core.timeline), prompts that say the format, the offline model's
frame for it, and unknown aspects refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.contracts import Boundary, JobRequest
from core.prompts import FRAMING, frame_for
from core.settings import RenderSettings
from core.timeline import ASPECTS, build_timeline, output_size
from providers.offline.video import ProceduralVideo
from tests.factories import make_analysis, make_request


def test_output_sizes_of_the_three_formats() -> None:
    """Default render settings: 1920x1080, 1080x1920, 1080x1080; a 1280x720 render setting scales all three."""
    assert [output_size(a) for a in ASPECTS] == [(1920, 1080), (1080, 1920), (1080, 1080)]
    small = RenderSettings(width=1280, height=720)
    assert [output_size(a, small) for a in ASPECTS] == [(1280, 720), (720, 1280), (720, 720)]
    assert ProceduralVideo().frame("9:16") == (720, 1280)


@pytest.mark.parametrize("aspect", ["4:3", "16x9", "", "9:16 "])
def test_unknown_aspect_is_refused(aspect: str) -> None:
    """Tried: 4:3, 16x9, empty, a trailing space: the request refuses each, naming the formats."""
    with pytest.raises(ValidationError, match="'16:9', '9:16' or '1:1'"):
        JobRequest(audio_uri="-", prompt="p", aspect=aspect)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="choose from: 16:9, 9:16, 1:1"):
        output_size(aspect)


def test_timeline_carries_the_size_to_every_conform_and_the_composer() -> None:
    """A 9:16 timeline: its frame, each clip's conform spec and the composer's render settings are 1080x1920."""
    bounds = [Boundary(index=i, start=2.0 * i, end=2.0 * i + 2, duration=2.0) for i in range(3)]
    tl = build_timeline(bounds, [], audio_duration=6.0, beats=[], fps=30, aspect="9:16")
    assert (tl.aspect, tl.width, tl.height) == ("9:16", 1080, 1920)
    spec = tl.conform_spec(1)
    assert (spec.width, spec.height) == (1080, 1920)
    render = tl.render(RenderSettings(preset="veryfast"))
    assert (render.width, render.height, render.preset) == (1080, 1920, "veryfast")
    assert (spec.render(RenderSettings()).width, spec.render(RenderSettings()).height) == (1080, 1920)


def test_prompt_says_the_format_and_the_plan_does_not_change() -> None:
    """The same plan framed for each format: the prompt gains that format's sentence once; 16:9 is unchanged."""
    from core.contracts import ReferenceImage
    from core.prompts import build_prompt
    from providers.offline.planner import plan_video

    plan = plan_video(make_request(), make_analysis(duration=20))
    ref = ReferenceImage(uri=None, description="d", cache_key="k", palette=plan.style.palette, provider="offline",
                         status="failed")  # fmt: skip
    base = build_prompt(plan, plan.clips[0], reference=ref)
    assert frame_for(base, "16:9").prompt == base.prompt
    vertical = frame_for(base, "9:16")
    assert vertical.aspect == "9:16" and vertical.prompt.endswith(FRAMING["9:16"])
    assert frame_for(vertical, "9:16").prompt == vertical.prompt
    assert frame_for(base, "1:1").prompt.endswith(FRAMING["1:1"])
    assert plan_video(make_request(aspect="9:16"), make_analysis(duration=20)) == plan
