"""Offline renderer: real, moving, plan-driven pictures (inputs: 2 s clips of small prompts at 1280x720/24)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from core.contracts import Camera, ClipPrompt
from core.media import probe
from core.render import render_clip

pytestmark = pytest.mark.slow


def make_prompt(**kw: object) -> ClipPrompt:
    base: dict[str, object] = {
        "index": 0,
        "prompt": "neon city at night",
        "start": 0.0,
        "end": 2.0,
        "duration": 2.0,
        "palette": ["#ff006e", "#8338ec", "#3a86ff", "#ffbe0b"],
        "visual_style": "neon",
        "mood": "upbeat",
        "lighting": "neon",
        "camera": Camera(movement="zoom_in"),
        "motion": "drift",
        "motion_intensity": 0.6,
        "energy": 0.6,
        "beats": [],
        "scene_id": "city",
        "seed": 7,
    }
    base.update(kw)
    return ClipPrompt.model_validate(base)


def frames_of(path: Path, size: tuple[int, int] = (160, 90)) -> NDArray[np.float32]:
    with av.open(str(path)) as c:
        return np.stack(
            [f.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray() for f in c.decode(video=0)]
        ).astype(np.float32)


@pytest.fixture(scope="module")
def clip_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "a.mp4"
    render_clip(make_prompt(), out, duration=2.0)
    return out


def test_output_format_and_frame_count(clip_a: Path) -> None:
    info = probe(clip_a)
    assert (info.video_codec, info.width, info.height, info.pix_fmt) == ("h264", 1280, 720, "yuv420p")
    assert info.fps == pytest.approx(24.0)
    assert info.frames == 48


def test_moves_and_is_not_flat(clip_a: Path) -> None:
    f = frames_of(clip_a)
    assert np.abs(f[24] - f[0]).mean() > 8.0, "picture does not move"
    assert np.abs(f[1:] - f[:-1]).mean(axis=(1, 2, 3)).min() > 0.3, "some frame is a repeat"
    assert f.std(axis=(1, 2)).mean(axis=1).min() > 15.0, "a frame is (nearly) a solid colour"


def test_prompts_differ_visibly(clip_a: Path, tmp_path: Path) -> None:
    other = tmp_path / "b.mp4"
    render_clip(
        make_prompt(palette=["#0b3d20", "#2a9d8f", "#e9c46a"], camera=Camera(movement="pan_left"), seed=99),
        other,
        duration=2.0,
    )
    a, b = frames_of(clip_a), frames_of(other)
    assert np.abs(a - b).mean() > 30.0


def test_same_prompt_is_deterministic(clip_a: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.mp4"
    render_clip(make_prompt(), again, duration=2.0)
    assert np.abs(frames_of(clip_a) - frames_of(again)).max() < 1.0


def test_beat_pulse_brightens_after_the_beat(clip_a: Path, tmp_path: Path) -> None:
    pulsed = tmp_path / "pulse.mp4"
    render_clip(make_prompt(beats=[1.0]), pulsed, duration=2.0)
    f = frames_of(pulsed).mean(axis=(1, 2, 3))
    plain = frames_of(clip_a).mean(axis=(1, 2, 3))
    # Frame 24 is t = 1.0 s: the beat. Frame 23 is just before it; ~0.2 s later the punch has decayed.
    assert f[24] > f[23] * 1.2
    assert f[24] > plain[24] * 1.2
    assert f[29] == pytest.approx(plain[29], rel=0.05)


def test_reference_image_is_blended_in(clip_a: Path, tmp_path: Path) -> None:
    ref = tmp_path / "ref.png"
    stripes = np.zeros((90, 160, 3), np.uint8)
    stripes[:, ::20] = 255
    Image.fromarray(stripes).resize((640, 360), Image.Resampling.NEAREST).save(ref)
    textured = tmp_path / "ref.mp4"
    render_clip(make_prompt(), textured, duration=2.0, reference=ref)
    assert np.abs(frames_of(textured) - frames_of(clip_a)).mean() > 10.0
