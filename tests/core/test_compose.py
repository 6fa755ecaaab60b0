"""Composer + loop points on short inputs.

Input tried: a 12 s slice of Vibe Ace, 4 rendered clips (red 4 s 1280x720@24, blue 2 s 832x480@16, green and
yellow 4 s 1280x720@24) on slots [0, 3.01, 6.5, 9, 12] with crossfade / fade / cut, fade in 0.5 s, fade out 1 s.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from core.compose import compose, conform_clip
from core.contracts import Boundary, Camera, ClipPrompt, ClipResult, CompositionResult, Transition
from core.errors import CompositionError
from core.loop import find_loop_point, loop_passes
from core.media import ffmpeg_exe, probe, run_ffmpeg
from core.settings import RenderSettings
from core.timeline import ConformSpec, Timeline, build_timeline
from providers.offline.render import render_clip

pytestmark = pytest.mark.slow

EDGES = [0.0, 3.01, 6.5, 9.0, 12.0]
BEATS = sorted({*(k * 0.5 for k in range(25)), 3.01})
PALETTES = [
    ["#ff0000", "#c00000", "#ff3030"],
    ["#0000ff", "#0000c0", "#3030ff"],
    ["#00c000", "#008000", "#30ff30"],
    ["#ffff00", "#c0c000", "#ffff60"],
]
SIZES = [(4.0, 1280, 720, 24), (2.0, 832, 480, 16), (4.0, 1280, 720, 24), (4.0, 1280, 720, 24)]


def _prompt(i: int, seconds: float) -> ClipPrompt:
    return ClipPrompt(
        index=i,
        prompt="test",
        palette=PALETTES[i],
        visual_style="flat",
        mood="calm",
        lighting="soft",
        camera=Camera(movement="static"),
        motion="drift",
        motion_intensity=0.3,
        energy=0.3,
        scene_id=f"s{i}",
        seed=i,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, vibe_ace: Path) -> tuple[Path, list[ClipResult]]:
    root = tmp_path_factory.mktemp("compose")
    song = root / "song.flac"
    run_ffmpeg(["-i", str(vibe_ace), "-map", "0:a:0", "-t", "12", str(song)])
    clips = []
    for i, (seconds, w, h, fps) in enumerate(SIZES):
        path = root / f"clip{i}.mp4"
        render_clip(_prompt(i, seconds), path, duration=seconds, width=w, height=h, fps=fps)
        clips.append(
            ClipResult(
                index=i,
                status="succeeded",
                uri=path.as_uri(),
                provider="offline",
                target_duration=EDGES[i + 1] - EDGES[i],
                requested_duration=seconds,
                duration=seconds,
            )
        )
    return song, clips


def _boundaries() -> list[Boundary]:
    pairs = zip(EDGES, EDGES[1:], strict=False)
    return [Boundary(index=i, start=a, end=b, duration=b - a) for i, (a, b) in enumerate(pairs)]


def _transitions() -> list[Transition]:
    return [
        Transition(from_index=0, to_index=1, kind="crossfade", duration=0.5),
        Transition(from_index=1, to_index=2, kind="fade", duration=0.5),
        Transition(from_index=2, to_index=3, kind="cut", duration=0.0),
    ]


def _timeline(song: Path) -> Timeline:
    return build_timeline(_boundaries(), _transitions(), audio_duration=probe(song).audio_duration, beats=BEATS,
                          fps=RenderSettings().fps, fade_in=0.5, fade_out=1.0)  # fmt: skip


def _compose(song: Path, clips: list[ClipResult], out: Path, cache: Path, **kw: object) -> CompositionResult:
    return compose(
        clips,
        timeline=_timeline(song),
        audio=song,
        out=out,
        beats=BEATS,
        render=RenderSettings(),
        work_dir=out.parent / f"{out.stem}-work",
        cache_dir=cache,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def composed(setup: tuple[Path, list[ClipResult]], tmp_path_factory: pytest.TempPathFactory) -> CompositionResult:
    song, clips = setup
    root = tmp_path_factory.mktemp("out")
    return _compose(song, clips, root / "video.mp4", root / "cache")


def _mean_rgb(path: Path) -> NDArray[np.float32]:
    with av.open(str(path)) as c:
        return np.stack(
            [f.reformat(width=48, height=27, format="rgb24").to_ndarray().mean(axis=(0, 1)) for f in c.decode(video=0)]
        ).astype(np.float32)


def test_output_format_and_sync(composed: CompositionResult) -> None:
    info = probe(composed.uri.removeprefix("file://"))
    assert (info.video_codec, info.audio_codec, info.width, info.height) == ("h264", "aac", 1920, 1080)
    assert info.fps == pytest.approx(30.0)
    assert info.frames == 360
    assert abs(info.video_duration - 12.0) <= 1 / 30
    assert composed.sync_drift < 0.1
    assert composed.validation.model_dump(exclude={"messages", "beat_tolerance_ms"}) == {
        "duration_ok": True,
        "sync_ok": True,
        "resolution_ok": True,
        "fps_ok": True,
        "cuts_on_beats": True,
    }


def test_cuts_on_beats_and_counts(composed: CompositionResult) -> None:
    assert composed.cuts == pytest.approx([3.0, 6.5, 9.0])
    assert all(min(abs(c - b) for b in BEATS) <= 0.05 for c in composed.cuts)
    assert composed.transitions == ["crossfade", "fade", "cut"]
    assert composed.clips_looped == 1  # the 2 s clip in a 3.49 s slot
    # ... which starts again twice (2 s of clip reach the beats at 1.75 s and 1.5 s of each pass), each time on a
    # beat (within a frame: 16 fps has no frame on every 30 fps one)
    assert [r.clip for r in composed.loop_restarts] == [1, 1]
    for r in composed.loop_restarts:
        assert 3.0 < r.time < 6.5 and r.beat_offset_ms is not None and abs(r.beat_offset_ms) <= 1000 / 30 + 1, r
    assert not any("restart off the beat" in m for m in composed.validation.messages)
    assert composed.clips_trimmed == 3
    assert composed.clips_used == [0, 1, 2, 3]
    assert composed.speed_factor == 1.0


def test_transitions_blend_and_fade(composed: CompositionResult) -> None:
    rgb = _mean_rgb(Path(composed.uri.removeprefix("file://")))
    red, blue, mid = rgb[60], rgb[120], rgb[90]  # well inside clip 0, inside clip 1, on the crossfade cut
    assert red[0] > red[2] + 60 and blue[2] > blue[0] + 60
    for ch, lo, hi in ((0, blue, red), (2, red, blue)):  # a real mix: 20-80 % of the way between the clips
        span = hi[ch] - lo[ch]
        assert lo[ch] + 0.2 * span < mid[ch] < hi[ch] - 0.2 * span, f"no blend at the cut: {mid}"
    # Fade through black at 6.5 s (frame 195): darker than both neighbours.
    lum = rgb.mean(axis=1)
    assert lum[195] < 0.5 * min(lum[170], lum[220])
    # Hard cut at 9.0 s: green up to frame 269, yellow (red + green) from 270.
    assert rgb[269][0] < 0.6 * rgb[270][0]
    # Fade in from black, fade out to black.
    assert lum[0] < 10 and lum[-1] < 10 and lum[30] > 40


def test_failed_clip_slot_goes_to_neighbour(
    setup: tuple[Path, list[ClipResult]], tmp_path: Path, composed: CompositionResult
) -> None:
    song, clips = setup
    broken = [*clips[:2], clips[2].model_copy(update={"status": "failed", "uri": None}), clips[3]]
    # Same conform cache as the first composition: clips 0 and 3 keep their layout and are not re-encoded.
    cache = Path(composed.uri.removeprefix("file://")).parent / "cache"
    timings: dict[str, float] = {}
    result = _compose(song, broken, tmp_path / "failed.mp4", cache, timings=timings)
    assert timings["conform_cached"] == 2
    assert result.clips_failed == [2]
    assert result.clips_used == [0, 1, 3]
    assert result.cuts == pytest.approx([3.0, 9.0])
    assert result.transitions == ["crossfade", "cut"]
    assert result.validation.duration_ok and abs(result.duration - 12.0) <= 1 / 30


def test_paths_with_pipes_and_spaces(
    setup: tuple[Path, list[ClipResult]], tmp_path: Path, composed: CompositionResult
) -> None:
    """Input tried: a data directory named `a|b c` (the `concat:` protocol splits on `|`): the pieces are joined
    through ffmpeg's stdin instead, so the video is the same length and frame count as the reference composition."""
    song, clips = setup
    odd = tmp_path / "a|b c"
    result = _compose(song, clips, odd / "video.mp4", odd / "cache")
    assert result.validation.duration_ok and abs(result.duration - composed.duration) < 1e-6
    assert probe(odd / "video.mp4").frames == probe(Path(composed.uri.removeprefix("file://"))).frames


def test_fewer_than_two_clips_is_an_error(setup: tuple[Path, list[ClipResult]], tmp_path: Path) -> None:
    song, clips = setup
    only_one = [clips[0], *(c.model_copy(update={"status": "failed"}) for c in clips[1:])]
    with pytest.raises(CompositionError, match="at least 2"):
        _compose(song, only_one, tmp_path / "x.mp4", tmp_path / "cache")


def test_conform_is_cached_by_content(setup: tuple[Path, list[ClipResult]], tmp_path: Path) -> None:
    _, clips = setup
    src = Path(clips[0].uri.removeprefix("file://"))  # type: ignore[union-attr]
    first = conform_clip(src, ConformSpec(20, head=4, tail=4), render=RenderSettings(), cache_dir=tmp_path)
    assert first.body is not None and first.head is not None and not first.cached
    mtime = first.body.stat().st_mtime_ns
    again = conform_clip(src, ConformSpec(20, head=4, tail=4), render=RenderSettings(), cache_dir=tmp_path)
    assert again.cached and again.body == first.body and again.body.stat().st_mtime_ns == mtime
    other = conform_clip(src, ConformSpec(21, head=4, tail=4), render=RenderSettings(), cache_dir=tmp_path)
    assert not other.cached and other.key != first.key


def _write_clip(path: Path, frames: NDArray[np.uint8], fps: int = 24) -> None:
    h, w = frames.shape[1:3]
    cmd = [ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}"]
    cmd += ["-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, input=frames.tobytes(), check=True)


def test_loop_point_of_a_cyclic_clip(tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:90, 0:160]
    frames = []
    for n in range(72):  # 3 s at 24 fps, one cycle per second
        phase = 2 * np.pi * n / 24
        cx, cy = 80 + 50 * np.cos(phase), 45 + 25 * np.sin(phase)
        img = np.zeros((90, 160, 3), np.uint8)
        img[..., 2] = (xx * 1.5).astype(np.uint8)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < 200] = (255, 200, 0)
        frames.append(img)
    path = tmp_path / "cycle.mp4"
    _write_clip(path, np.stack(frames))
    t = find_loop_point(path)
    assert t is not None and t >= 1.5 and abs(t - round(t)) < 0.05


def test_no_loop_point_in_noise(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.mp4"
    _write_clip(path, rng.integers(0, 256, (48, 90, 160, 3), dtype=np.uint8))
    assert find_loop_point(path) is None


def test_clips_conformed_on_arrival_are_reused(setup: tuple[Path, list[ClipResult]], tmp_path: Path) -> None:
    """Conforming each clip as it arrives (with the timeline's conform_spec) leaves compose nothing to re-encode
    but windows."""
    song, clips = setup
    cache = tmp_path / "cache"
    timeline = _timeline(song)
    for clip in clips:
        spec = timeline.conform_spec(clip.index)
        conform_clip(Path(clip.uri.removeprefix("file://")), spec, render=RenderSettings(), cache_dir=cache)
    timings: dict[str, float] = {}
    result = _compose(song, clips, tmp_path / "v.mp4", cache, timings=timings)
    assert timings["conform_cached"] == len(clips)
    assert result.validation.duration_ok


@pytest.mark.parametrize(
    ("frames", "available", "beats", "loop_point", "passes"),
    [
        (150, 120, (15, 45, 75, 105, 135), None, [105, 45]),  # the latest beat the first pass reaches
        (150, 60, (20, 50, 70, 100, 130), None, [50, 50, 50]),  # several restarts, each on a beat
        (150, 120, (10, 20), 100, [100, 50]),  # no beat in the pass's second half: the seamless point
        (150, 120, (), None, [120, 30]),  # no beats, no loop point: at the clip's end
        (90, 120, (30, 60), None, [90]),  # the clip covers the slot: no restart
    ],
)
def test_loop_passes_restart_on_the_latest_beat_each_pass_reaches(
    frames: int, available: float, beats: tuple[int, ...], loop_point: int | None, passes: list[int]
) -> None:
    assert loop_passes(frames, available, beats, loop_point) == passes
    assert sum(passes) == frames
