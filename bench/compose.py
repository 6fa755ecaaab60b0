"""Composer benchmark: our ffmpeg composer vs a straightforward MoviePy 2 composition, same clips, one run.

    uv run python -m bench.compose [--skip-moviepy] [--workers 2] [--work bench/results/compose]

60 s of Vibe Ace, 12 slots of 5 s on the 120 BPM grid, 12 procedural clips (1280x720 @ 24 fps, 4-6 s: the 4 s ones
must loop), cut / crossfade / fade transitions. Peak memory is the largest sum of RSS over this process and its
descendants (ffmpeg), sampled from /proc every 50 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table

from core.compose import compose
from core.contracts import Boundary, Camera, CameraMovement, ClipPrompt, ClipResult, Transition, TransitionKind
from core.media import probe, run_ffmpeg
from core.settings import RenderSettings
from core.timeline import build_timeline
from providers.offline.render import render_clip

ROOT = Path(__file__).resolve().parents[1]
SONG = Path(os.environ.get("VIDEOGEN_TESTDATA", ROOT.parent / "shared" / "testdata")) / "music"
SONG = SONG / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
SONG_SECONDS = 60.0
SLOTS = 12
PALETTES = [
    ["#ff006e", "#8338ec", "#3a86ff", "#ffbe0b"],
    ["#264653", "#2a9d8f", "#e9c46a", "#f4a261"],
    ["#0b132b", "#1c2541", "#5bc0be", "#ffffff"],
    ["#ff5400", "#ff8500", "#ffbd00", "#390099"],
]
CAMERAS: list[CameraMovement] = ["zoom_in", "pan_left", "tilt_up", "zoom_out", "pan_right", "static"]
CLIP_SECONDS = [5.5, 6.0, 4.0, 5.5, 6.0, 5.5, 4.0, 6.0, 5.5, 6.0, 4.0, 5.5]
KINDS: list[TransitionKind] = ["crossfade", "cut", "fade"]
T = TypeVar("T")


class PeakRss:
    """Samples RSS of this process plus all its descendants (ffmpeg children) and keeps the maximum."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self._stop.wait(self.interval)


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def _measure(fn: Callable[[], T]) -> tuple[T, float, int]:
    with PeakRss() as mem:
        t0 = time.perf_counter()
        value = fn()
        wall = time.perf_counter() - t0
    return value, wall, mem.peak


def prepare(work: Path) -> tuple[Path, list[ClipResult], list[Boundary], list[Transition], list[float]]:
    """The song slice, 12 rendered clips (reused between runs) and the beat-grid plan."""
    work.mkdir(parents=True, exist_ok=True)
    song = work / "song.flac"
    if not song.is_file():
        run_ffmpeg(["-i", str(SONG), "-map", "0:a:0", "-t", str(SONG_SECONDS), str(song)], what="song slice")
    slot = SONG_SECONDS / SLOTS
    beats = [i * 0.5 for i in range(int(SONG_SECONDS * 2) + 1)]
    boundaries = [Boundary(index=i, start=i * slot, end=(i + 1) * slot, duration=slot) for i in range(SLOTS)]
    clips: list[ClipResult] = []
    for i, seconds in enumerate(CLIP_SECONDS):
        path = work / f"clip{i:02d}.mp4"
        if not path.is_file():
            prompt = ClipPrompt(
                index=i,
                prompt=f"bench clip {i}",
                palette=PALETTES[i % len(PALETTES)],
                visual_style="procedural",
                mood="upbeat",
                lighting="neon",
                camera=Camera(movement=CAMERAS[i % len(CAMERAS)]),
                motion="drift",
                motion_intensity=0.3 + 0.05 * i,
                energy=0.4 + 0.04 * i,
                scene_id=f"scene{i % 3}",
                seed=i,
            )
            render_clip(prompt, path, duration=seconds, beats=[k * 0.5 for k in range(int(seconds * 2))])
        clips.append(
            ClipResult(
                index=i,
                status="succeeded",
                uri=path.as_uri(),
                provider="offline",
                target_duration=slot,
                requested_duration=seconds,
                duration=seconds,
                width=1280,
                height=720,
                fps=24,
            )
        )
    transitions = [
        Transition(
            from_index=i,
            to_index=i + 1,
            kind=KINDS[i % 3],
            duration=0.0 if KINDS[i % 3] == "cut" else 0.5,
        )
        for i in range(SLOTS - 1)
    ]
    return song, clips, boundaries, transitions, beats


def run_moviepy(song: Path, clips: list[ClipResult], slot: float, out: Path, render: RenderSettings) -> float:
    """The straightforward MoviePy 2 way: resize, subclip/loop to slot + overlap, crossfade-concatenate."""
    from moviepy import AudioFileClip, VideoFileClip, concatenate_videoclips, vfx

    overlap = 0.5
    parts = []
    for i, c in enumerate(clips):
        assert c.uri is not None
        need = slot + (overlap if i < len(clips) - 1 else 0.0)
        v = VideoFileClip(c.uri.removeprefix("file://")).resized((render.width, render.height))
        v = v.with_effects([vfx.Loop(duration=need)]) if v.duration < need else v.subclipped(0, need)
        parts.append(v.with_effects([vfx.CrossFadeIn(overlap)]) if i else v)
    video = concatenate_videoclips(parts, method="compose", padding=-overlap)
    video = video.with_audio(AudioFileClip(str(song)))
    video.write_videofile(
        str(out), fps=render.fps, codec="libx264", preset=render.preset, audio_codec="aac", logger=None
    )
    return probe(out).duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "results" / "compose")
    args = parser.parse_args()
    console = Console(width=130)
    render = RenderSettings()
    song, clips, boundaries, transitions, beats = prepare(args.work)
    shutil.rmtree(args.work / "ours", ignore_errors=True)  # cold cache: every clip is conformed
    timings: dict[str, float] = {}

    def ours() -> float:
        timeline = build_timeline(boundaries, transitions, audio_duration=probe(song).audio_duration, beats=beats,
                                  fps=render.fps, fade_in=0.5, fade_out=1.0)  # fmt: skip
        result = compose(
            clips,
            timeline=timeline,
            audio=song,
            out=args.work / "ours.mp4",
            beats=beats,
            render=render,
            work_dir=args.work / "ours",
            workers=args.workers,
            timings=timings,
        )
        console.print(
            f"ours: {result.transitions.count('crossfade')} crossfades, {result.transitions.count('fade')} fades, "
            f"looped {result.clips_looped}, trimmed {result.clips_trimmed}, validation {result.validation}"
        )
        return result.duration

    rows: list[tuple[str, float, int, float]] = []
    duration, wall, peak = _measure(ours)
    rows.append(("ours (ffmpeg, cold cache)", wall, peak, duration))
    if not args.skip_moviepy:
        out = args.work / "moviepy.mp4"
        duration, wall, peak = _measure(lambda: run_moviepy(song, clips, SONG_SECONDS / SLOTS, out, render))
        rows.append(("MoviePy 2 (concatenate + crossfades)", wall, peak, duration))

    table = Table(title=f"Compose {SONG_SECONDS:.0f} s, {SLOTS} clips -> 1080p30 ({render.preset})")
    for col in ("method", "wall s", "realtime ×", "peak memory", "output s", "ours vs this"):
        table.add_column(col, justify="left" if col == "method" else "right")
    ours_wall = rows[0][1]
    for name, wall, peak, duration in rows:
        table.add_row(
            name,
            f"{wall:.1f}",
            f"{SONG_SECONDS / wall:.2f}",
            f"{peak / 2**20:.0f} MB",
            f"{duration:.3f}",
            f"{wall / ours_wall:.1f}× faster" if wall is not ours_wall else "—",
        )
    for key, label in [
        ("conform", "conform 12 clips (parallel, windows overlap)"),
        ("windows", "remaining transition windows"),
        ("final", "final concat (copy) + AAC mux"),
    ]:
        table.add_row(f"  ours: {label}", f"{timings[key]:.1f}", "", "", "", "")
    console.print(table)
    console.print("targets: ours ≥ 3× realtime, ≥ 10× MoviePy, peak < 1 GB")


if __name__ == "__main__":
    main()
