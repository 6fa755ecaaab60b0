"""The consistency check on real clips of the offline renderer: its own look passes, another plan's look is flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.consistency import MIN_REFERENCE_SIMILARITY, check_clip, palette_distance
from core.contracts import ReferenceImage
from core.prompts import build_prompt
from core.timeline import Slot
from providers.offline.planner import plan_video
from providers.offline.reference import paint_reference
from providers.offline.video import ProceduralVideo
from tests.factories import make_analysis, make_request

NEON = "a fox running through a neon forest"
BEACH = "a sunny beach, pastel watercolor, golden hour"


@pytest.fixture(scope="module")
def neon_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """One 4 s offline clip of the neon plan, with that plan's style reference and palette."""
    tmp = tmp_path_factory.mktemp("consistency")
    plan = plan_video(make_request(prompt=NEON), make_analysis(duration=20))
    ref = paint_reference(plan.style, tmp / "ref.png", seed=1, size=(640, 360))
    image = ReferenceImage(uri=None, description="d", cache_key="k", palette=plan.style.palette, provider="offline",
                           status="failed")  # fmt: skip
    slot = Slot(index=1, start_frame=0, end_frame=120, start=0, end=4, duration=4)
    clip = ProceduralVideo().generate(build_prompt(plan, plan.clips[1], reference=image), slot=slot, reference=None,
                                      out=tmp / "clip.mp4")  # fmt: skip
    return clip.path, ref, plan.style.palette


def test_a_clip_matches_its_own_plan(neon_clip: tuple[Path, Path, list[str]]) -> None:
    """Measured: palette distance ~0.19, similarity ~0.25 (threshold 0.20): not flagged."""
    clip, ref, palette = neon_clip
    c = check_clip(clip, duration=4, palette=palette, references=[ref], characters=["fox"])
    assert not c.flagged and c.reasons == [] and c.characters_used == ["fox"]
    assert 0 < c.palette_distance < 0.3 and c.reference_similarity >= MIN_REFERENCE_SIMILARITY


def test_a_clip_of_another_look_is_flagged(neon_clip: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    """The neon clip judged against the pastel beach plan's palette and reference: similarity ~0.14, flagged."""
    clip, _, own_palette = neon_clip
    beach = plan_video(make_request(prompt=BEACH), make_analysis(duration=20))
    ref = paint_reference(beach.style, tmp_path / "beach.png", seed=1, size=(640, 360))
    c = check_clip(clip, duration=4, palette=beach.style.palette, references=[ref])
    assert c.flagged and any("unlike its references" in r for r in c.reasons)
    own = check_clip(clip, duration=4, palette=own_palette, references=[])
    assert c.palette_distance > own.palette_distance and own.reference_similarity == 1.0


def test_palette_distance_bounds() -> None:
    """Pixels exactly on the palette are 0; pure white against a black-only palette is 1."""
    import numpy as np

    on = np.full((2, 4, 4, 3), 255, dtype=np.uint8)
    assert palette_distance(on, ["#ffffff", "#000000"]) == 0.0
    assert palette_distance(on, ["#000000"]) == pytest.approx(1.0)


def _steps_clip(out: Path, *, gop: int) -> Path:
    """8 s at 30 fps whose grey level steps every second (10, 40, ..., 220), a keyframe every ``gop`` frames only."""
    from core.media import run_ffmpeg

    grey = "30*floor(T)+10"
    run_ffmpeg(["-f", "lavfi", "-i", "color=s=64x64:r=30:d=8",
                "-vf", f"format=rgb24,geq=r='{grey}':g='{grey}':b='{grey}'",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-keyint_min", str(gop),
                "-sc_threshold", "0", "-pix_fmt", "yuv420p", str(out)], what="steps clip")  # fmt: skip
    return out


def test_a_clip_with_enough_keyframes_is_sampled_at_them(tmp_path: Path) -> None:
    """Tried: keyframes every 3 s (at 0, 3, 6 s). The samples are those frames (grey 10, 100, 190), not the frames
    at even times (0, 2, 4, 6 s: 10, 70, 130, 190) that the full decode picks."""
    from core.consistency import sample_frames

    frames = sample_frames(_steps_clip(tmp_path / "k.mp4", gop=90), duration=8)
    assert [round(float(f.mean()) / 30) * 30 + 10 for f in frames] == [10, 100, 190]


def test_a_clip_with_one_keyframe_is_sampled_at_even_times(tmp_path: Path) -> None:
    """Tried: one keyframe in 8 s (as hosted models often return). The samples fall at 0, 2, 4 and 6 s."""
    from core.consistency import sample_frames

    frames = sample_frames(_steps_clip(tmp_path / "one.mp4", gop=1000), duration=8)
    assert [round(float(f.mean()) / 30) * 30 + 10 for f in frames] == [10, 70, 130, 190]
