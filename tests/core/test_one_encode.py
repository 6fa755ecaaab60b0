"""Issue 17: the offline model renders straight into the conformed pieces, so each output frame is encoded once.

Inputs tried: a 2.4 s clip (72 frames at 30 fps, a 6-frame head and tail window, a 9-frame fade-in) of "a dancer
in the rain in a neon city at night" at 640x360; the same layout at 9:16 (360x640); a second layout of the same
clip (no windows); a frame writer that raises half-way.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import av
import numpy as np
import pytest

from core.compose import ConformTarget, conform_clip, conform_frames
from core.contracts import Camera, ClipPrompt
from core.errors import CompositionError
from core.media import probe
from core.settings import RenderSettings
from core.timeline import ConformSpec, Slot
from providers.offline.video import ProceduralVideo

RENDER = RenderSettings(width=640, height=360)
SPEC = ConformSpec(frames=72, head=6, tail=6, fade_in=9, fade_out=0, width=640, height=360, start=0)
SLOT = Slot(index=0, start_frame=0, end_frame=66, start=0.0, end=2.2, duration=2.2, beats=[0.5, 1.0, 1.5, 2.0])


def _prompt(aspect: str = "16:9") -> ClipPrompt:
    return ClipPrompt(index=0, prompt="a dancer in the rain in a neon city at night", palette=["#ff006e", "#3a86ff"],
                      visual_style="synthwave", mood="energetic", lighting="neon", camera=Camera(movement="pan_left"),
                      motion="dance", motion_intensity=0.6, energy=0.7, scene_id="city", seed=3,
                      aspect=aspect)  # type: ignore[arg-type]  # fmt: skip


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def test_offline_clip_is_its_conformed_pieces(tmp_path: Path) -> None:
    """The clip is the target's frames at the output size and fps (no 720p24 intermediate); the composer's conform of
    it with the same layout is a cache hit (no second encode); its pieces joined are the clip's frames."""
    cache, out = tmp_path / "conform", tmp_path / "clip.mp4"
    target = ConformTarget.of(SPEC, RENDER, cache, SLOT)
    clip = ProceduralVideo().generate(_prompt(), slot=SLOT, reference=None, out=out, target=target)
    assert clip.conformed and clip.assets == ["dancer"]
    info = probe(out)
    assert (info.width, info.height, info.fps, info.frames) == (640, 360, 30.0, 72)
    assert clip.requested_duration == pytest.approx(72 / 30)

    again = conform_clip(out, SPEC, render=RENDER, cache_dir=cache)
    assert again.cached and not again.looped and not again.trimmed
    pieces = [again.head, again.body, again.tail]
    assert all(p is not None and p.is_file() for p in pieces)
    counts = [len(_frames(p)) for p in pieces if p is not None]
    assert counts == [6, 60, 6]
    first = _frames(out)[0]
    assert first.mean() < 40  # the fade-in starts from black


def test_other_layout_conforms_the_clip_once(tmp_path: Path) -> None:
    """A neighbour failed, so the composer needs another layout of the clip: it is conformed from the clip like a
    hosted model's (not a cache hit), to exactly the frames asked for."""
    cache, out = tmp_path / "conform", tmp_path / "clip.mp4"
    ProceduralVideo().generate(_prompt(), slot=SLOT, reference=None, out=out,
                               target=ConformTarget.of(SPEC, RENDER, cache))  # fmt: skip
    other = conform_clip(out, ConformSpec(60), render=RENDER, cache_dir=cache)
    assert not other.cached and other.head is None and other.tail is None
    assert other.body is not None and len(_frames(other.body)) == 60


def test_vertical_target_is_drawn_upright(tmp_path: Path) -> None:
    """9:16: the scene is laid out on a portrait canvas (the frame is 360x640; its top is sky, not a stretched
    16:9 picture whose rows would repeat in pairs)."""
    spec = ConformSpec(frames=15, head=0, tail=0, fade_in=0, fade_out=0, width=360, height=640)
    out = tmp_path / "tall.mp4"
    ProceduralVideo().generate(_prompt("9:16"), slot=SLOT, reference=None, out=out,
                               target=ConformTarget.of(spec, RENDER, tmp_path / "c"))  # fmt: skip
    info = probe(out)
    assert (info.width, info.height, info.frames) == (360, 640, 15)
    canvas = ProceduralVideo().frame("9:16")
    assert canvas[0] < canvas[1]


def test_writer_failure_is_raised_and_leaves_nothing(tmp_path: Path) -> None:
    """A renderer that fails after 10 frames: its error reaches the caller (not a hang, not ffmpeg's complaint
    about a short input), and no clip or cache entry is left behind."""

    def writer(sink: IO[bytes]) -> None:
        for _ in range(10):
            sink.write(bytes(64 * 36 * 3))
        raise RuntimeError("renderer broke")

    cache, out = tmp_path / "conform", tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError, match="renderer broke"):
        conform_frames(writer, ConformSpec(30), size=(64, 36), pix_fmt="gbrp", out=out, render=RENDER, cache_dir=cache)
    assert not out.exists()
    assert list(cache.iterdir()) == []


def test_too_few_frames_is_an_error(tmp_path: Path) -> None:
    """A writer that stops at 10 of 30 frames: CompositionError naming the clip, not a short clip."""

    def writer(sink: IO[bytes]) -> None:
        sink.write(bytes(64 * 36 * 3 * 10))

    with pytest.raises(CompositionError, match="short.mp4"):
        conform_frames(writer, ConformSpec(30), size=(64, 36), pix_fmt="gbrp", out=tmp_path / "short.mp4",
                       render=RENDER, cache_dir=tmp_path / "c")  # fmt: skip


def test_hosted_clip_a_little_short_plays_slower_and_a_shorter_one_restarts_on_the_beats(tmp_path: Path) -> None:
    """A hosted model's 2 s clip (720p24 -> 48 frames, 60 output frames) for 2.1 s of output (5 % short): played
    5 % slower, not looped, so nothing restarts before the cut. For 3.5 s with beats every 0.7 s (output frames
    21, 42, 63, 84): it loops, jumping back on the beats at frames 42 and 84 (the latest beat each pass reaches;
    within a frame where 24 fps has no frame on the beat), exactly where its report says. For 2.15 s (7.5 %, past
    the 6 % limit) with no beats: it loops at the clip's end. Frames are told apart by brightness: the clip fades
    from dark to light, so a restart is a drop."""
    from core.media import run_ffmpeg

    src = tmp_path / "ramp.mp4"  # 48 frames getting brighter: the frame shown says where in the clip we are
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=white:s=320x180:r=24:d=2", "-vf", "fade=t=in:st=0:d=2", "-c:v",
                "libx264", "-pix_fmt", "yuv420p", str(src)])  # fmt: skip
    cache = tmp_path / "c"

    def drops(body: Path | None) -> list[int]:
        assert body is not None
        lum = [f.mean() for f in _frames(body)]
        return [i + 1 for i, (a, b) in enumerate(zip(lum, lum[1:], strict=False)) if b < a - 50]

    slow = conform_clip(src, ConformSpec(63), render=RENDER, cache_dir=cache)
    assert not slow.looped and slow.speed == pytest.approx(60 / 63, abs=1e-3) and slow.body is not None
    assert len(_frames(slow.body)) == 63 and drops(slow.body) == []  # never jumps back
    on_beat = conform_clip(src, ConformSpec(105, beats=(21, 42, 63, 84)), render=RENDER, cache_dir=cache)
    assert on_beat.looped and drops(on_beat.body) == list(on_beat.restarts)  # the report says where it jumps
    assert [abs(r - b) for r, b in zip(on_beat.restarts, (42, 84), strict=True)] <= [1, 1]  # 24 fps: within a frame
    plain = conform_clip(src, ConformSpec(round(2.15 * 30)), render=RENDER, cache_dir=cache)
    assert plain.looped and plain.restarts == (60,) and drops(plain.body) == [60]
