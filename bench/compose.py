"""Composer benchmark: our ffmpeg composer vs a straightforward MoviePy 2 composition, same clips, one run.

    uv run python -m bench.compose [--skip-moviepy] [--workers 2] [--work bench/results/compose]

60 s of Vibe Ace, 12 slots of 5 s on the 120 BPM grid, 12 procedural clips (1280x720 @ 24 fps, 4-6 s: the 4 s ones
must loop), cut / crossfade / fade transitions. Peak memory is the largest sum of RSS over this process and its
descendants (ffmpeg), sampled from /proc every 50 ms.

Measured 2026-12-04 21:09 UTC, load average 1.7-2.7: hosted clips 20.4 s (2.94x realtime, 887 MB peak); offline
path 20.2 s, its compose alone 4.1 s (14.7x); the old offline path (render 720p24, then conform) 26.5 s; MoviePy
226.8 s (1838 MB), so 11.1x. The hosted conform is 19.1 of the 20.4 s: x264 on 1,800 frames of 1080p30, which
puts the 5x-realtime and 25x-MoviePy targets of issue 17 out of reach on 2 cores (see the encoder table below).

    uv run python -m bench.compose --encoders

The encode alone, for both paths, with size in MB per minute and SSIM against the same scaled frames (ffmpeg's
``ssim`` filter): 2 hosted clips (11.5 s of 720p24 -> 1080p30: decode + scale + encode) and the offline renderer's
raw frames of the same 2 prompts (scale + encode: the offline path's one encode). All with ``-bf 0 -g 120``, as the
pieces are encoded. Measured 2026-12-03 17:13 UTC, this run alone on the 2 cores (load average 2.7-3.7, its own
ffmpeg threads), so walls are noisy (±20 %):

    hosted clips                             crf   wall s   MB/min   SSIM
    ultrafast -tune fastdecode (draft)        28     3.9     45.2   0.9665
    ultrafast -tune fastdecode                32     3.8     28.7   0.9436
    superfast                                 28     6.0     29.3   0.9766
    veryfast                                  26     8.7     21.6   0.9743
    veryfast (standard until 2026-12-03)      28     8.1     17.3   0.9679
    veryfast subme=0                          28     5.7     17.4   0.9672
    ultrafast LEAN_X264 (standard)            28     4.5     18.4   0.9667
    faster                                    26    12.7     22.7   0.9757
    LEAN_X264, 1 thread x 2 clips at once     28     3.6     18.4   0.9667
    LEAN_X264, 2 threads x 1 clip             28     5.3     18.4   0.9667
    LEAN_X264, decode | pipe | encode         28     5.4     18.4   0.9667
    openh264 3000 kb/s                         -     7.1     22.1   0.9463

    offline renderer's frames                crf   wall s   MB/min   SSIM
    ultrafast -tune fastdecode (draft)        28     3.5     45.3   0.9660
    veryfast (standard until 2026-12-03)      28     7.5     19.0   0.9679
    veryfast subme=0                          28     6.1     18.9   0.9680
    veryfast subme=0:partitions=none          27     4.9     21.0   0.9686
    ultrafast LEAN_X264 without AQ            28     5.1     22.7   0.9705
    ultrafast LEAN_X264 (standard)            28     4.6     19.6   0.9678
    LEAN_X264, 1 thread x 2 clips at once     28     4.1     19.6   0.9678
    veryfast (high)                           21    10.0     40.0   0.9867

Decision: ``standard`` = ultrafast CRF 28 with ``core.settings.LEAN_X264``: ultrafast's motion search (diamond,
full-pel, no inter partitions) with CABAC, the 8x8 transform and intra, the loop filter, AQ, the macroblock tree and
2 reference frames turned back on. It is veryfast CRF 28's size (+3-6 %) and SSIM (-0.0001 to -0.0012) at 1.6x
(offline) to 1.8x (hosted) its speed; an earlier run of the same rows, at 1 reference frame, gave 1.95x and 1.8x.
The second reference frame costs no time measurably and saves ~2 % of the bytes: it brought the demo from 25.6 to
24.6 MB/min (the size goal is 25). Where veryfast spends its time: sub-pixel refinement (``subme=0`` alone saves ~30%
at the same size) and inter partitions. x264's threads on one clip and 2 single-threaded clips at once are the
same; one ffmpeg process beats a decode | encode pipe; openh264 is slower and clearly worse (SSIM 0.946 at the same
size), so it is not used. ``draft`` (ultrafast, fastdecode) stays the fastest and ~2.3x larger; ``high`` stays
veryfast CRF 21.

History: veryfast CRF 26 with CABAC was ``standard`` until the demo was measured (2026-12-02); its rain and city
cost more bits than these bench clips, so CRF 28 (24.4 MB/min on the demo after sparser rain streaks).
"""

from __future__ import annotations

import argparse
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table

from core.compose import compose, x264_args
from core.contracts import Boundary, Camera, CameraMovement, ClipPrompt, ClipResult, Transition, TransitionKind
from core.media import probe, run_ffmpeg
from core.settings import LEAN_X264 as LEAN
from core.settings import Encode, RenderSettings
from core.timeline import Timeline, build_timeline
from core.uris import to_path
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


def _prompt(i: int) -> ClipPrompt:
    return ClipPrompt(
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


def native_renders(work: Path, workers: int) -> float:
    """The old offline path's first half: the 12 clips rendered at 720p24 (as a hosted model returns them)."""
    from concurrent.futures import ThreadPoolExecutor

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(render_clip, _prompt(i), work / f"clip{i:02d}.mp4", duration=seconds,
                            beats=[k * 0.5 for k in range(int(seconds * 2))])
                for i, seconds in enumerate(CLIP_SECONDS)]  # fmt: skip
        for job in jobs:
            job.result()
    return SONG_SECONDS


def offline_path(work: Path, song: Path, timeline: Timeline, beats: list[float], render: RenderSettings,
                 workers: int, timings: dict[str, float]) -> float:  # fmt: skip
    """The offline model as the pipeline runs it: each clip drawn straight into its conformed pieces (one encode,
    in parallel), then the compose, whose conforms are all cache hits."""
    from concurrent.futures import ThreadPoolExecutor

    from core.compose import ConformTarget
    from providers.offline.video import ProceduralVideo

    shutil.rmtree(work, ignore_errors=True)
    cache, model = work / "conform", ProceduralVideo()
    t0 = time.perf_counter()

    def one(i: int) -> ClipResult:
        slot, spec = timeline.slot(i), timeline.conform_spec(i)
        target = ConformTarget.of(spec, render, cache, slot)
        clip = model.generate(_prompt(i), slot=slot, reference=None, out=work / f"clip{i:02d}.mp4", target=target)
        info = probe(clip.path)
        return ClipResult(index=i, status="succeeded", uri=clip.path.as_uri(), provider="offline",
                          target_duration=slot.duration, requested_duration=clip.requested_duration,
                          duration=info.duration, width=info.width, height=info.height, fps=info.fps)  # fmt: skip

    with ThreadPoolExecutor(workers) as pool:
        clips = list(pool.map(one, range(len(timeline.slots))))
    timings["render"] = time.perf_counter() - t0
    result = compose(clips, timeline=timeline, audio=song, out=work / "offline.mp4", beats=beats, render=render,
                     work_dir=work / "compose", cache_dir=cache, workers=workers)  # fmt: skip
    timings["compose"] = time.perf_counter() - t0 - timings["render"]
    return result.duration


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
            prompt = _prompt(i)
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
        str(out), fps=render.fps, codec="libx264", preset=render.encode.preset, audio_codec="aac", logger=None
    )
    return probe(out).duration


_SCALE = "scale=1920:1080:force_original_aspect_ratio=increase:flags=bicubic,crop=1920:1080,setsar=1,fps=30"


@dataclass(frozen=True)
class Source:
    """What an encode reads: a hosted clip (decoded, scaled and retimed) or the offline renderer's raw frames."""

    path: Path
    seconds: float
    raw: tuple[int, int, str] | None = None  # canvas width, height, pix_fmt of raw frames at 30 fps

    def args(self) -> list[str]:
        if self.raw is None:
            return ["-i", str(self.path)]
        w, h, pix_fmt = self.raw
        return ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{w}x{h}", "-r", "30", "-i", str(self.path)]


@dataclass(frozen=True)
class Row:
    preset: str
    crf: int
    tune: str | None = None
    params: str = ""
    threads: int | None = None
    pipe: bool = False
    parallel: int = 1
    codec: str = "libx264"

    @property
    def label(self) -> str:
        params = self.params.replace(LEAN.replace(":aq-mode=1", ""), "LEAN_X264 - aq").replace(LEAN, "LEAN_X264")
        return " ".join(x for x in (self.preset, f"-tune {self.tune}" if self.tune else "", params) if x)


def _encoder_args(row: Row) -> list[str]:
    thread_args = ["-threads", str(row.threads)] if row.threads else []
    if row.codec == "libopenh264":  # rate control by bitrate only: give it the size goal's bitrate
        return ["-c:v", "libopenh264", "-b:v", f"{row.crf}k", "-pix_fmt", "yuv420p", *thread_args, "-f", "h264"]
    # exactly what the pieces are encoded with (core.compose.x264_args), plus the thread count under test
    return [*x264_args(Encode(row.preset, row.crf, row.tune, row.params), row.crf, 30), *thread_args]


def _encode_one(src: Source, dest: Path, row: Row) -> None:
    enc = _encoder_args(row)
    if not row.pipe:
        run_ffmpeg([*src.args(), "-vf", f"{_SCALE},format=yuv420p", *enc, str(dest)], what="encode")
        return
    import subprocess

    from core.media import ffmpeg_exe

    base = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    dec = subprocess.Popen([*base, *src.args(), "-vf", _SCALE, "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"],
                           stdout=subprocess.PIPE)  # fmt: skip
    subprocess.run([*base, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1920x1080", "-r", "30", "-i", "-", *enc,
                    str(dest)], stdin=dec.stdout, check=True)  # fmt: skip
    dec.wait()


def _ssim(encoded: Path, src: Source) -> float:
    """Mean SSIM (all planes) of the encode against the same scaled frames, straight from the source."""
    import re
    import subprocess

    from core.media import ffmpeg_exe

    graph = f"[1:v]{_SCALE},format=yuv420p[ref];[0:v]format=yuv420p[enc];[enc][ref]ssim"
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-r", "30", "-f", "h264", "-i", str(encoded), *src.args(),
                           "-lavfi", graph, "-f", "null", "-"], capture_output=True, text=True, check=True)  # fmt: skip
    match = re.search(r"All:([0-9.]+)", proc.stderr)
    return float(match.group(1)) if match else float("nan")


HOSTED_ROWS = [
    Row("ultrafast", 28, "fastdecode"), Row("ultrafast", 32, "fastdecode"), Row("superfast", 28),
    Row("veryfast", 26), Row("veryfast", 28), Row("veryfast", 28, params="subme=0"), Row("ultrafast", 28, params=LEAN),
    Row("faster", 26), Row("ultrafast", 28, params=LEAN, threads=1, parallel=2),
    Row("ultrafast", 28, params=LEAN, threads=2), Row("ultrafast", 28, params=LEAN, pipe=True),
    Row("-", 3000, codec="libopenh264"),
]  # fmt: skip
OFFLINE_ROWS = [
    Row("ultrafast", 28, "fastdecode"), Row("veryfast", 28), Row("veryfast", 28, params="subme=0"),
    Row("veryfast", 27, params="subme=0:partitions=none"), Row("ultrafast", 28, params=LEAN.replace(":aq-mode=1", "")),
    Row("ultrafast", 28, params=LEAN), Row("ultrafast", 28, params=LEAN, threads=1, parallel=2),
    Row("veryfast", 21),
]  # fmt: skip


def _raw_sources(work: Path) -> list[Source]:
    """The offline renderer's frames for 2 bench clips at the output fps, drawn once to files (the encode reads
    them as the pipeline's renderer pipes them)."""
    from providers.offline.render import raw_clip

    sources = []
    for i, seconds in enumerate(CLIP_SECONDS[:2]):
        raw = raw_clip(_prompt(i), frames=round(seconds * 30), fps=30, beats=[k * 0.5 for k in range(int(seconds * 2))])
        path = work / f"raw{i}.{raw.pix_fmt}"
        if not path.is_file():
            with path.open("wb") as sink:
                raw.write(sink)
        sources.append(Source(path, seconds, (*raw.size, raw.pix_fmt)))
    return sources


def _encoder_table(title: str, srcs: list[Source], rows: list[Row], out: Path) -> Table:
    from concurrent.futures import ThreadPoolExecutor

    seconds = sum(s.seconds for s in srcs)
    table = Table(title=f"{title} ({seconds:.1f} s -> 1080p30)")
    for col in ("encoder", "x264 settings", "crf/kbps", "threads", "clips at once", "process", "wall s", "x realtime",
                "MB/min", "SSIM"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("encoder", "x264 settings", "process") else "right")
    for n, row in enumerate(rows):
        dests = [out / f"{n}-{i}.h264" for i in range(len(srcs))]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(row.parallel) as pool:
            for job in [pool.submit(_encode_one, s, d, row) for s, d in zip(srcs, dests, strict=True)]:
                job.result()
        wall = time.perf_counter() - t0
        size = sum(d.stat().st_size for d in dests) / 1e6 * 60 / seconds
        ssim = sum(_ssim(d, s) for d, s in zip(dests, srcs, strict=True)) / len(srcs)
        table.add_row(row.codec, row.label, str(row.crf), str(row.threads or "auto"), str(row.parallel),
                      "pipe" if row.pipe else "one", f"{wall:.1f}", f"{seconds / wall:.2f}", f"{size:.1f}",
                      f"{ssim:.4f}")  # fmt: skip
    return table


def encoders(work: Path, clips: list[ClipResult], console: Console) -> None:
    """The encode alone, for both paths: 2 hosted clips (720p24: decode + scale to 1080p30 + encode) and the offline
    renderer's raw frames of the same 2 prompts (scale + encode, the one encode): speed, size, SSIM."""
    out = work / "encoders"
    out.mkdir(parents=True, exist_ok=True)
    paths = [to_path(c.uri) for c in clips[:2] if c.uri]
    hosted = [Source(p, probe(p).duration) for p in paths]
    console.print(_encoder_table("Conform encode of 2 hosted clips", hosted, HOSTED_ROWS, out))
    console.print(_encoder_table("Offline renderer's frames, 2 clips", _raw_sources(out), OFFLINE_ROWS, out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--encoders", action="store_true", help="only the encoder table (preset, CRF, threads)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "results" / "compose")
    args = parser.parse_args()
    console = Console(width=130)
    render = RenderSettings()
    song, clips, boundaries, transitions, beats = prepare(args.work)
    if args.encoders:
        encoders(args.work, clips, console)
        return
    shutil.rmtree(args.work / "ours", ignore_errors=True)  # cold cache: every clip is conformed
    timings: dict[str, float] = {}
    timeline = build_timeline(boundaries, transitions, audio_duration=probe(song).audio_duration, beats=beats,
                              fps=render.fps, fade_in=0.5, fade_out=1.0)  # fmt: skip

    def ours() -> float:
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
    rows.append(("hosted-model clips (720p24, conformed once)", wall, peak, duration))
    offline: dict[str, float] = {}
    duration, wall, peak = _measure(lambda: offline_path(args.work / "offline", song, timeline, beats, render,
                                                         args.workers, offline))  # fmt: skip
    rows.append(("offline model: render into pieces + compose", wall, peak, duration))
    _, native, peak = _measure(lambda: native_renders(args.work / "native", args.workers))
    rows.append(("old offline: render 720p24 + compose above", native + rows[0][1], peak, rows[0][3]))
    if not args.skip_moviepy:
        out = args.work / "moviepy.mp4"
        duration, wall, peak = _measure(lambda: run_moviepy(song, clips, SONG_SECONDS / SLOTS, out, render))
        rows.append(("MoviePy 2 (concatenate + crossfades)", wall, peak, duration))

    enc = render.encode
    table = Table(title=f"Compose {SONG_SECONDS:.0f} s, {SLOTS} clips -> 1080p30 ({enc.preset} CRF {enc.crf})")

    for col in ("method", "wall s", "realtime ×", "peak memory", "output s", "hosted path vs this"):
        table.add_column(col, justify="left" if col == "method" else "right")
    ours_wall = rows[0][1]
    for name, wall, peak, duration in rows:
        table.add_row(
            name,
            f"{wall:.1f}",
            f"{SONG_SECONDS / wall:.2f}",
            f"{peak / 2**20:.0f} MB",
            f"{duration:.3f}",
            f"{wall / ours_wall:.2f}×" if wall is not ours_wall else "—",
        )
    for key, label in [
        ("conform", "conform 12 clips (parallel, windows overlap)"),
        ("windows", "remaining transition windows"),
        ("final", "final concat (copy) + AAC mux"),
    ]:
        table.add_row(f"  hosted: {label}", f"{timings[key]:.1f}", "", "", "", "")
    table.add_row("  offline: draw + encode 12 clips into pieces", f"{offline['render']:.1f}", "", "", "", "")
    table.add_row("  offline: compose (conforms cached)", f"{offline['compose']:.1f}",
                  f"{SONG_SECONDS / offline['compose']:.1f}", "", "", "")  # fmt: skip
    console.print(table)
    console.print("targets: compose ≥ 5× realtime, ≥ 25× MoviePy, peak < 1 GB")


if __name__ == "__main__":
    main()
