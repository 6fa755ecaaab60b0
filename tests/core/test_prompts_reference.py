"""Offline prompt writer and style reference painter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.contracts import ReferenceImage
from core.prompts import build_prompt
from core.reference import describe
from providers.offline.planner import plan_video
from providers.offline.reference import paint_reference
from tests.factories import make_analysis, make_request


def _reference(uri: str | None) -> ReferenceImage:
    return ReferenceImage(
        uri=uri, description="d", cache_key="k", palette=["#000000", "#ffffff", "#ff0000"], provider="offline",
        status="generated" if uri else "failed",
    )  # fmt: skip


def test_one_prompt_per_clip_with_its_script_style_and_hints() -> None:
    audio = make_analysis(duration=40.0)
    plan = plan_video(make_request(), audio)
    prompts = [build_prompt(plan, c, reference=_reference("file:///ref.png")) for c in plan.clips]
    for p, clip in zip(prompts, plan.clips, strict=True):
        assert p.index == clip.index and p.scene_id == clip.scene_id
        assert p.reference_uri == "file:///ref.png"
        assert clip.visual_description in p.prompt
        assert plan.style.visual_style in p.prompt
        assert p.camera == clip.camera
    assert prompts[0].transition_in == "cut"
    for p, t in zip(prompts[1:], plan.transitions, strict=True):
        assert p.transition_in == t.kind
    assert len({p.seed for p in prompts}) == len(prompts)


def test_text_only_prompt_when_reference_failed() -> None:
    audio = make_analysis()
    plan = plan_video(make_request(), audio)
    p = build_prompt(plan, plan.clips[0], reference=_reference(None))
    assert p.reference_uri is None
    assert "reference image" not in p.prompt


def test_reference_image_follows_palette(tmp_path: Path) -> None:
    audio = make_analysis()
    warm = plan_video(make_request("sunset over the desert, golden"), audio).style
    cold = plan_video(make_request("snow and ice in winter"), audio).style
    a = np.asarray(Image.open(paint_reference(warm, tmp_path / "warm.png", seed=1)).convert("RGB"), dtype=float)
    b = np.asarray(Image.open(paint_reference(cold, tmp_path / "cold.png", seed=1)).convert("RGB"), dtype=float)
    assert a.shape == (576, 1024, 3)
    assert a.std() > 10 and b.std() > 10  # a picture, not a flat colour
    # warm palette: more red than blue; cold palette: the other way round
    assert a[..., 0].mean() > a[..., 2].mean()
    assert b[..., 2].mean() > b[..., 0].mean()
    assert describe(warm) != describe(cold)
