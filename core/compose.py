"""Composer (PRD module 8): beat-synced clips + song -> one 1080p30 H.264/AAC MP4, on ffmpeg.

x264 at 1080p is the bottleneck, so every output frame is encoded once and as early as possible:

1. ``conform_clip`` turns each clip into exactly the 1080p30 frames its slot needs (trimmed, or looped at a
   seamless loop point), split into pieces: a head window, the body and a tail window. Pieces are raw
   H.264 (Annex B) from encoders with identical settings and no B-frames, so each piece starts with an IDR
   frame and any sequence of them is a valid stream. Conforms are cached by content and run in parallel.
2. Each transition is the only thing encoded twice: xfade of the outgoing clip's tail window with the incoming
   clip's head window, both centred on the cut, so the cut stays on the beat and no time is added or lost.
3. The pieces are joined byte-wise (streamed to ffmpeg's stdin) and stream-copied into the MP4 while the song's
   audio is encoded to AAC in the same step.

The frame layout (slots, windows, fades, what a failed clip's neighbours cover) is ``core.timeline``'s: the
output has ``round(audio_duration * fps)`` frames and every cut sits on the frame nearest to its boundary time.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import accumulate
from pathlib import Path
from typing import IO

from core.contracts import (
    BEAT_TOLERANCE,
    ClipResult,
    CompositionResult,
    CompositionValidation,
    CutSync,
    LoopRestart,
)
from core.errors import CompositionError
from core.hashing import code_fingerprint, sha256_file
from core.loop import find_loop_point, loop_passes
from core.media import probe, run_ffmpeg
from core.settings import Encode, RenderSettings
from core.timeline import ConformSpec, Cut, Layout, Slot, Timeline, TransitionKind
from core.uris import to_path, to_uri

_SCALE_FLAGS = "bicubic"  # decode + scale is ~10 % of a conform; x264 dominates, so keep the better filter
_WINDOW_CRF_BONUS = 6  # window pieces are encoded twice: start them at higher quality
MAX_STRETCH = 1.06  # slowest a hosted model's clip is played to fill its slot (issue 12: <= 6 %); shorter ones loop
_XFADE = {"crossfade": "fade", "fade": "fadeblack"}
_PIECES = ("head", "body", "tail")


# --------------------------------------------------------------------------- conform


@dataclass(frozen=True)
class ConformedClip:
    """Normalised pieces of one clip: ``head + body + tail`` are exactly ``frames`` frames at output fps."""

    key: str
    frames: int
    head: Path | None
    body: Path | None
    tail: Path | None
    trimmed: bool
    looped: bool
    loop_point: float | None
    restarts: tuple[int, ...] = ()  # frames (from the first) where a looped clip starts again
    speed: float = 1.0  # < 1: a clip a little short of its slot, played slower
    cached: bool = False
    seconds: float = 0.0


def _x264_args(render: RenderSettings, crf: int) -> list[str]:
    return x264_args(render.encode, crf, render.fps)


def x264_args(enc: Encode, crf: int, fps: int) -> list[str]:
    """The output arguments of every piece: ``enc``'s preset and tuning (core.settings.QUALITY) at ``crf``, as a
    raw H.264 stream. No B-frames keeps pieces joinable; a keyframe every 4 s."""
    return [
        *("-c:v", "libx264", "-preset", enc.preset, *(["-tune", enc.tune] if enc.tune else [])),
        *(["-x264-params", enc.params] if enc.params else []),
        *("-crf", str(crf), "-bf", "0", "-g", str(fps * 4), "-pix_fmt", "yuv420p", "-f", "h264"),
    ]


@dataclass(frozen=True)
class ConformTarget:
    """The frames one clip is conformed to: its timeline layout (``spec``), the job's render settings sized to it,
    and the conform cache. A model that draws its own frames (the offline one) renders straight into them: one
    encode per output frame, and the composer finds the pieces in the cache."""

    spec: ConformSpec
    render: RenderSettings
    cache_dir: Path
    lead: float = 0.0  # seconds of the conformed clip before its slot starts (half the incoming window)

    @classmethod
    def of(cls, spec: ConformSpec, render: RenderSettings, cache_dir: Path, slot: Slot | None = None) -> ConformTarget:
        """``spec`` at the job's ``render`` settings; ``slot`` (the clip's) places the beats in the target."""
        lead = (slot.start_frame - spec.start) / render.fps if slot is not None else 0.0
        return cls(spec, spec.render(render), cache_dir, lead)

    def identity(self) -> dict[str, object]:
        """What changes the pixels, for the cache key of a clip rendered into this target."""
        return _pixels(self.spec, self.render)

    def encode(
        self, writer: Callable[[IO[bytes]], None], *, size: tuple[int, int], pix_fmt: str, scale_flags: str, out: Path
    ) -> ConformedClip:
        return conform_frames(writer, self.spec, size=size, pix_fmt=pix_fmt, out=out, render=self.render,
                              cache_dir=self.cache_dir, scale_flags=scale_flags)  # fmt: skip


def _pixels(spec: ConformSpec, render: RenderSettings) -> dict[str, object]:
    """Everything besides the source that changes a conform's pixels: the piece layout, the encode and the code
    that does it (a hand-bumped version number was the key's until 2026-12-04)."""
    enc = render.encode
    out: dict[str, object] = {
        "code": code_fingerprint("core.compose"),
        "frames": spec.frames,
        "head": spec.head,
        "tail": spec.tail,
        "fade_in": spec.fade_in,
        "fade_out": spec.fade_out,
        "render": [render.width, render.height, render.fps, enc.preset, enc.crf, enc.tune, enc.params],
    }
    if spec.subtitles is not None:  # burned-in captions: their content and where the piece sits in the song
        out.update(subtitles=sha256_file(Path(spec.subtitles)), start=spec.start)
    if spec.beats:  # where a loop restarts
        out.update(beats=list(spec.beats))
    return out


def conform_key(src: Path, spec: ConformSpec, render: RenderSettings) -> str:
    """Cache key: the clip's bytes, the piece layout and every setting that changes the pixels."""
    blob = {"sha256": sha256_file(src), **_pixels(spec, render)}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:32]


def conform_clip(src: Path, spec: ConformSpec, *, render: RenderSettings, cache_dir: Path) -> ConformedClip:
    """Normalise ``src`` to ``spec.frames`` output frames (fill+crop to the ``render`` size, its fps), cached.

    The first ``spec.head`` and last ``spec.tail`` frames become separate window pieces for transitions;
    ``fade_in`` / ``fade_out`` frames fade from/to black at the start/end. A clip a little short of its slot
    plays slower (up to MAX_STRETCH); a shorter one loops, restarting on a beat of ``spec.beats`` (else at its
    seamless loop point); a long one is trimmed. ``spec.subtitles`` (ASS in song time) are burned in during this
    same encode; ``spec.start`` is the song frame of the piece's first frame.
    """
    _check_layout(spec)
    key = conform_key(src, spec, render)
    final = cache_dir / key
    if (final / "meta.json").is_file():
        return _load_conformed(final, cached=True)
    t0 = time.perf_counter()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache_dir))
    try:
        meta = _encode_pieces(src, tmp, spec, render)
        _publish(tmp, final, {**meta, "key": key, "seconds": time.perf_counter() - t0})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _load_conformed(final, cached=False)


def _check_layout(spec: ConformSpec) -> None:
    if spec.frames < 1 or spec.head < 0 or spec.tail < 0 or spec.head + spec.tail > spec.frames:
        raise CompositionError(f"bad conform layout: frames={spec.frames} head={spec.head} tail={spec.tail}")


def _load_conformed(folder: Path, *, cached: bool) -> ConformedClip:
    meta = json.loads((folder / "meta.json").read_text())
    pieces = {name: (folder / f"{name}.h264" if meta[name] else None) for name in _PIECES}
    return ConformedClip(
        key=meta["key"],
        frames=meta["frames"],
        head=pieces["head"],
        body=pieces["body"],
        tail=pieces["tail"],
        trimmed=meta["trimmed"],
        looped=meta["looped"],
        loop_point=meta["loop_point"],
        restarts=tuple(meta.get("restarts", ())),
        speed=meta.get("speed", 1.0),
        cached=cached,
        seconds=meta["seconds"],
    )


def _encode_pieces(src: Path, folder: Path, spec: ConformSpec, render: RenderSettings) -> dict[str, object]:
    info = probe(src)
    if not info.video_codec or info.fps <= 0:
        raise CompositionError(f"clip {src} has no video")
    frames = spec.frames
    rate = Fraction(info.fps).limit_denominator(1001)
    src_frames = info.frames or round(info.video_duration * info.fps)
    available = src_frames * render.fps / float(rate)  # output frames the clip covers without repeating
    short = frames > available + 1e-6
    # A clip a little short of its slot plays slower (up to MAX_STRETCH) rather than restarting before the cut:
    # a 5 s clip in a 5.25 s slot is 5 % slower, where a loop would jump back 0.25 s before the beat.
    stretch = frames / available if short and frames <= available * MAX_STRETCH else 1.0
    looped = short and stretch == 1.0
    loop_point = find_loop_point(src) if looped else None
    # Each repeat keeps source frames [0, cut) of the clip. The fps filter first shows the source frame numbered
    # `cut` (in all) at output frame round-half-up(cut / step) (measured, 24 -> 30 fps): the restart lands on its
    # beat, or a frame off where the source rate has no frame on it; the report says which.
    step = rate / render.fps  # source frames per output frame
    cuts: list[int] = []
    if looped:
        point = round(loop_point * render.fps) if loop_point else None
        cuts = [round(r * step) for r in accumulate(loop_passes(frames, available, spec.beats, point)[:-1])]
    restarts = [math.floor(c / step + Fraction(1, 2)) for c in cuts]

    chain: list[str] = []
    if stretch > 1.0:
        chain.append(f"setpts={stretch:.6f}*(PTS-STARTPTS)")
    elif looped:
        # -stream_loop repeats the input forever: pass k keeps the first frames of the k-th repeat, up to its
        # restart (a beat), and the kept frames are renumbered, so playback jumps back to frame 0 on the beat.
        keep = [min(src_frames, b - a) for a, b in zip([0, *cuts], cuts, strict=False)]
        chain += [f"select='{_pass_expr(keep, src_frames)}'", f"setpts=N*{rate.denominator}/({rate.numerator}*TB)"]
    else:
        chain.append("setpts=PTS-STARTPTS")
    fill, fps = _fill(render, _SCALE_FLAGS), f"fps={render.fps}"
    # Scale the fewer frames: before the fps conversion when it adds frames, after when it drops them.
    chain += [fill, fps] if float(rate) <= render.fps else [fps, fill]
    args, present = _pieces_args(chain, folder, spec, render)
    loop_args = ["-stream_loop", "-1"] if looped else []
    run_ffmpeg([*loop_args, "-i", str(src), *args], what=f"conform {src.name}")
    return {
        "frames": frames,
        **present,
        "trimmed": available > frames + 0.5,
        "looped": looped,
        "loop_point": loop_point,
        "restarts": restarts,
        "speed": round(1 / stretch, 4),
    }


def _pass_expr(keep: list[int], src_frames: int) -> str:
    """ffmpeg expression true for the frames to keep of the looped input: ``keep[k]`` frames of repeat k (every
    frame of the repeats after the listed ones)."""
    expr = "1"
    for k in reversed(range(len(keep))):
        expr = f"if(lt(n\\,{(k + 1) * src_frames})\\,lt(mod(n\\,{src_frames})\\,{keep[k]})\\,{expr})"
    return expr


def _fill(render: RenderSettings, flags: str) -> str:
    """Fill the output frame: scale up to cover it, crop the overhang."""
    w, h = render.width, render.height
    return f"scale={w}:{h}:force_original_aspect_ratio=increase:flags={flags},crop={w}:{h},setsar=1"


def _pieces_args(
    chain: list[str], folder: Path, spec: ConformSpec, render: RenderSettings
) -> tuple[list[str], dict[str, bool]]:
    """ffmpeg arguments that take input 0 through ``chain`` (already at the output size and fps) and encode its
    first ``spec.frames`` frames, captioned and faded, as the head/body/tail pieces in ``folder``; and which exist."""
    frames, fade_in, fade_out = spec.frames, spec.fade_in, spec.fade_out
    chain = [*chain, f"trim=end_frame={frames}"]
    if spec.subtitles is not None:
        chain += _subtitles_filter(Path(spec.subtitles), spec.start / render.fps)
    if fade_in > 0:
        chain.append(f"fade=t=in:s=0:n={min(fade_in, frames)}")
    if fade_out > 0:
        chain.append(f"fade=t=out:s={max(0, frames - fade_out)}:n={min(fade_out, frames)}")
    chain.append("format=yuv420p")

    layout = [("head", 0, spec.head), ("body", spec.head, frames - spec.tail), ("tail", frames - spec.tail, frames)]
    pieces = [(name, a, b) for name, a, b in layout if b > a]
    graph = f"[0:v]{','.join(chain)},split={len(pieces)}" + "".join(f"[s{i}]" for i in range(len(pieces)))
    outputs: list[str] = []
    for i, (name, a, b) in enumerate(pieces):
        graph += f";[s{i}]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS[{name}]"
        crf = render.encode.crf if name == "body" else max(0, render.encode.crf - _WINDOW_CRF_BONUS)
        piece = folder / f"{name}.h264"
        outputs += ["-map", f"[{name}]", "-frames:v", str(b - a), *_x264_args(render, crf), str(piece)]
    return ["-filter_complex", graph, *outputs], {name: any(p[0] == name for p in pieces) for name in _PIECES}


def conform_frames(
    writer: Callable[[IO[bytes]], None],
    spec: ConformSpec,
    *,
    size: tuple[int, int],
    pix_fmt: str,
    out: Path,
    render: RenderSettings,
    cache_dir: Path,
    scale_flags: str = _SCALE_FLAGS,
) -> ConformedClip:
    """One encode for a renderer: the raw frames ``writer`` writes (``size``, ``pix_fmt``, at the output fps, at
    least ``spec.frames`` of them) become the conformed pieces directly, and ``out``, the clip's MP4, is those
    pieces stream-copied. The pieces are published under ``conform_key(out, spec, render)``, so ``conform_clip``
    of ``out`` with this layout finds them; any other layout conforms ``out`` like any clip."""
    _check_layout(spec)
    t0 = time.perf_counter()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".frames-", dir=cache_dir))
    try:
        args, present = _pieces_args([_fill(render, scale_flags)], tmp, spec, render)
        w, h = size
        source = ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{w}x{h}", "-r", str(render.fps), "-i", "pipe:0"]
        run_ffmpeg([*source, *args], what=f"render {out.name}", writer=writer)
        pieces = [tmp / f"{name}.h264" for name in _PIECES if present[name]]
        out.parent.mkdir(parents=True, exist_ok=True)
        run_ffmpeg(["-r", str(render.fps), "-f", "h264", "-i", "pipe:0", "-c:v", "copy", "-movflags", "+faststart",
                    str(out)], what=f"wrap {out.name}", stdin_files=pieces)  # fmt: skip
        if (got := probe(out).frames) != spec.frames:  # the writer stopped early: ffmpeg would encode what it got
            out.unlink()
            raise CompositionError(f"render {out.name}: {got} of {spec.frames} frames written")
        key = conform_key(out, spec, render)
        meta = {"frames": spec.frames, **present, "trimmed": False, "looped": False, "loop_point": None}
        _publish(tmp, cache_dir / key, {**meta, "key": key, "seconds": time.perf_counter() - t0})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _load_conformed(cache_dir / key, cached=False)


def _publish(tmp: Path, final: Path, meta: dict[str, object]) -> None:
    """Write the pieces' meta and move them into the cache atomically; a concurrent twin may have won the race."""
    (tmp / "meta.json").write_text(json.dumps(meta))
    try:
        tmp.rename(final)
    except OSError:
        if not (final / "meta.json").is_file():
            raise


def _subtitles_filter(ass: Path, offset: float) -> list[str]:
    """libass on the piece, shifted to song time and back; the bundled font is its only font directory."""
    from core.captions import font_dir

    def esc(p: Path) -> str:
        return str(p).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")

    return [f"setpts=PTS+{offset:.6f}/TB", f"subtitles=filename='{esc(ass)}':fontsdir='{esc(font_dir())}'",
            "setpts=PTS-STARTPTS"]  # fmt: skip


def _clip_path(clip: ClipResult) -> Path:
    if not clip.uri:
        raise CompositionError(f"clip {clip.index} succeeded without a uri")
    path = to_path(clip.uri)
    if not path.is_file():
        raise CompositionError(f"clip {clip.index}: file not found: {path}")
    return path


# --------------------------------------------------------------------------- transitions + final mux


def _window(out_piece: Path, in_piece: Path, cut: Cut, dest: Path, render: RenderSettings) -> TransitionKind:
    """Encode the transition window; fall back to a hard cut inside the window if xfade fails."""
    fps, crf = render.fps, render.encode.crf
    inputs = [
        "-r",
        str(fps),
        "-f",
        "h264",
        "-i",
        str(out_piece),
        "-r",
        str(fps),
        "-f",
        "h264",
        "-i",
        str(in_piece),
    ]
    tail = ["-frames:v", str(cut.window), *_x264_args(render, crf), str(dest)]
    xfade = f"[0:v][1:v]xfade=transition={_XFADE[cut.kind]}:duration={cut.window / fps:.6f}:offset=0,format=yuv420p"
    try:
        run_ffmpeg([*inputs, "-filter_complex", xfade, *tail], what=f"{cut.kind} at frame {cut.frame}")
        return cut.kind
    except CompositionError:
        before = cut.window // 2
        hard = (
            f"[0:v]trim=end_frame={before},setpts=PTS-STARTPTS[a];"
            f"[1:v]trim=start_frame={before},setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1:a=0,format=yuv420p"
        )
        run_ffmpeg([*inputs, "-filter_complex", hard, *tail], what=f"cut fallback at frame {cut.frame}")
        return "cut"


def _mux(
    pieces: list[Path],
    audio: Path,
    out: Path,
    render: RenderSettings,
    audio_dur: float,
    fade_in: float,
    fade_out: float,
    captions: Path | None = None,
) -> None:
    """Join the pieces (stream copy) with the song; ``captions`` (SRT) become a soft ``mov_text`` track."""
    afilters = []
    if fade_in > 0:
        afilters.append(f"afade=t=in:st=0:d={fade_in:.3f}")
    if fade_out > 0:
        afilters.append(f"afade=t=out:st={max(0.0, audio_dur - fade_out):.3f}:d={fade_out:.3f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        [
            # Input -r gives the timestamp-less Annex B stream an exact constant frame rate.
            *("-r", str(render.fps), "-f", "h264", "-i", "pipe:0"),
            *("-i", str(audio)),
            *(["-i", str(captions)] if captions else []),
            *("-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"),
            *(["-map", "2:s:0", "-c:s", "mov_text", "-metadata:s:s:0", "language=und"] if captions else []),
            *(["-af", ",".join(afilters)] if afilters else []),
            *("-c:a", "aac", "-b:a", render.audio_bitrate, "-movflags", "+faststart", str(out)),
        ],
        what="final mux",
        stdin_files=pieces,
    )


# --------------------------------------------------------------------------- compose


def compose(
    clips: list[ClipResult],
    *,
    timeline: Timeline,
    audio: Path,
    out: Path,
    beats: list[float],
    render: RenderSettings,
    downbeats: list[float] | None = None,
    onsets: list[float] | None = None,
    work_dir: Path | None = None,
    cache_dir: Path | None = None,
    workers: int = 2,
    timings: dict[str, float] | None = None,
    captions: Path | None = None,
    subtitles: Path | None = None,
) -> CompositionResult:
    """Compose the clips onto the timeline's frames. ``timings`` (if given) receives conform/final seconds.

    ``downbeats`` and ``onsets`` (the analysis' bar starts and tracker-independent onset peaks) feed the per-cut
    sync report; without them it says nothing about downbeats / onsets. ``captions`` (SRT) is muxed as a soft
    subtitle track; ``subtitles`` (ASS in song time) is burned into the frames in the per-clip conform."""
    t0 = time.perf_counter()
    audio_info = probe(audio)
    audio_dur = audio_info.audio_duration or audio_info.duration
    if not audio_info.audio_codec or audio_dur <= 0:
        raise CompositionError(f"{audio} has no audio stream")
    if timeline.fps != render.fps or timeline.frames != round(audio_dur * render.fps):
        raise CompositionError(f"the timeline ({timeline.frames} frames at {timeline.fps} fps) does not fit "
                               f"{audio_dur:.3f} s of audio at {render.fps} fps")  # fmt: skip
    by_index = {c.index: c for c in clips}
    plan = timeline.layout([c.index for c in clips if c.status == "succeeded"])
    sources = {s.clip: _clip_path(by_index[s.clip]) for s in plan.segments}
    fade_in, fade_out = timeline.fade_in / render.fps, timeline.fade_out / render.fps

    own_tmp = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="compose-")) if work_dir is None else work_dir
    work.mkdir(parents=True, exist_ok=True)
    cache = cache_dir or work / "conform"
    try:
        t_setup = time.perf_counter() - t0
        conformed, kinds, t_conform = _render_pieces(plan, sources, render, cache, work, workers, subtitles)
        t1 = time.perf_counter()
        t_windows = t1 - t0 - t_setup - t_conform
        pieces: list[Path] = []
        for i, c in enumerate(conformed):
            if c.body:
                pieces.append(c.body)
            if i < len(plan.cuts) and plan.cuts[i].window:
                pieces.append(work / f"window-{i:03d}.h264")
        _mux(pieces, audio, out, render, audio_dur, fade_in, fade_out, captions)
        t_final = time.perf_counter() - t1
    finally:
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)
    if timings is not None:
        timings.update(
            setup=t_setup,
            conform=t_conform,
            windows=t_windows,
            final=t_final,
            conform_cached=float(sum(c.cached for c in conformed)),
        )
    sync = cut_sync(plan.cuts, kinds, render.fps, beats=beats, downbeats=downbeats, onsets=onsets)
    return _result(plan, conformed, kinds, out, audio_dur, beats, render, time.perf_counter() - t0, sync)


def _render_pieces(
    plan: Layout,
    sources: dict[int, Path],
    render: RenderSettings,
    cache: Path,
    work: Path,
    workers: int,
    subtitles: Path | None = None,
) -> tuple[list[ConformedClip], list[TransitionKind], float]:
    """Conform all clips in parallel; encode each transition window as soon as both neighbours are ready.

    Conforms are fed to the pool one at a time as others finish (never more queued than running), so a window,
    submitted when its second neighbour finishes, runs before the next conform instead of after all of them.
    """
    t0 = time.perf_counter()
    kinds: list[TransitionKind] = [c.kind for c in plan.cuts]
    workers = max(1, workers)
    conformed: dict[int, ConformedClip] = {}
    windows: dict[int, Future[TransitionKind]] = {}
    pending = iter(range(len(plan.segments)))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        running: dict[Future[ConformedClip], int] = {}

        def submit_next() -> None:
            i = next(pending, None)
            if i is not None:
                s = plan.segments[i]
                spec = replace(s.spec, subtitles=str(subtitles) if subtitles else None)
                fut = pool.submit(conform_clip, sources[s.clip], spec, render=render, cache_dir=cache)
                running[fut] = i

        for _ in range(workers):
            submit_next()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                conformed[running.pop(fut)] = fut.result()
            for i, cut in enumerate(plan.cuts):  # windows whose two neighbours are both conformed now
                if cut.window and i not in windows and i in conformed and i + 1 in conformed:
                    left, right = conformed[i], conformed[i + 1]
                    if left.tail is None or right.head is None:
                        raise CompositionError(f"transition window {i} has no pieces to blend")
                    dest = work / f"window-{i:03d}.h264"
                    windows[i] = pool.submit(_window, left.tail, right.head, cut, dest, render)
            for _ in done:
                submit_next()
        t_conform = time.perf_counter() - t0
        for i, fut_w in windows.items():
            kinds[i] = fut_w.result()
    return [conformed[i] for i in range(len(plan.segments))], kinds, t_conform


def cut_sync(
    cuts: list[Cut],
    kinds: list[TransitionKind],
    fps: int,
    *,
    beats: list[float],
    downbeats: list[float] | None = None,
    onsets: list[float] | None = None,
) -> list[CutSync]:
    """Per cut (on the frame grid): signed offset from the nearest beat and from the nearest onset peak (ms and
    frames), whether it sits on a downbeat (within ``BEAT_TOLERANCE``), and the transition applied."""

    def nearest(t: float, events: list[float] | None) -> float | None:
        return t - min(events, key=lambda e: abs(e - t)) if events else None

    out = []
    for i, (cut, kind) in enumerate(zip(cuts, kinds, strict=True)):
        t = cut.frame / fps
        b, o, d = nearest(t, beats), nearest(t, onsets), nearest(t, downbeats)
        out.append(
            CutSync(
                index=i,
                time=t,
                frame=cut.frame,
                beat_offset_ms=None if b is None else round(b * 1000, 1),
                beat_offset_frames=None if b is None else round(b * fps, 2),
                onset_offset_ms=None if o is None else round(o * 1000, 1),
                onset_offset_frames=None if o is None else round(o * fps, 2),
                on_downbeat=d is not None and abs(d) <= BEAT_TOLERANCE,
                transition=kind,
            )
        )
    return out


def loop_restarts(plan: Layout, conformed: list[ConformedClip], fps: int, beats: list[float]) -> list[LoopRestart]:
    """Every restart of a looped clip in output time, with its offset from the nearest beat."""
    out = []
    for seg, clip in zip(plan.segments, conformed, strict=True):
        for r in clip.restarts:
            t = (seg.start - seg.pre + r) / fps
            near = min(beats, key=lambda b: abs(b - t)) if beats else None
            offset = None if near is None else round((t - near) * 1000, 1)
            out.append(LoopRestart(clip=seg.clip, time=round(t, 6), beat_offset_ms=offset))
    return out


def _result(
    plan: Layout,
    conformed: list[ConformedClip],
    kinds: list[TransitionKind],
    out: Path,
    audio_dur: float,
    beats: list[float],
    render: RenderSettings,
    wall: float,
    sync: list[CutSync],
) -> CompositionResult:
    info = probe(out)
    fps = render.fps
    frame = 1.0 / fps
    vdur = info.video_duration or info.duration
    adur = info.audio_duration
    cuts = [c.frame / fps for c in plan.cuts]
    off_beat = [t for t in cuts if not beats or min(abs(t - b) for b in beats) > BEAT_TOLERANCE]
    messages: list[str] = []
    duration_ok = abs(vdur - audio_dur) <= frame + 1e-6
    sync_drift = abs(vdur - adur)
    if not duration_ok:
        messages.append(f"video {vdur:.3f}s vs audio {audio_dur:.3f}s")
    if off_beat:
        messages.append(f"cuts off the beat: {[round(t, 3) for t in off_beat]}")
    far = [c.time for c in sync if c.onset_offset_ms is not None and abs(c.onset_offset_ms) > BEAT_TOLERANCE * 1000]
    if far:
        messages.append(f"cuts more than {BEAT_TOLERANCE * 1000:.0f} ms from any onset: {[round(t, 3) for t in far]}")
    restarts = loop_restarts(plan, conformed, fps, beats)
    off = [r.time for r in restarts if r.beat_offset_ms is None or abs(r.beat_offset_ms) > BEAT_TOLERANCE * 1000]
    if off:
        messages.append(f"looped clips restart off the beat at {[round(t, 3) for t in off]}")
    if plan.failed:
        messages.append(f"failed clips replaced by neighbours: {plan.failed}")
    fallbacks = [c.frame for c, k in zip(plan.cuts, kinds, strict=True) if k != c.kind]
    if fallbacks:
        messages.append(f"transitions fell back to cuts at frames {fallbacks}")
    validation = CompositionValidation(
        duration_ok=duration_ok,
        sync_ok=sync_drift < 0.1,
        resolution_ok=(info.width, info.height) == (render.width, render.height),
        fps_ok=abs(info.fps - fps) < 0.01,
        cuts_on_beats=not off_beat,
        messages=messages,
    )
    return CompositionResult(
        uri=to_uri(out),
        duration=info.duration,
        audio_duration=adur,
        sync_drift=sync_drift,
        width=info.width,
        height=info.height,
        fps=info.fps,
        video_codec=info.video_codec or "",
        audio_codec=info.audio_codec or "",
        clips_used=[s.clip for s in plan.segments],
        clips_failed=plan.failed,
        clips_trimmed=sum(c.trimmed for c in conformed),
        clips_looped=sum(c.looped for c in conformed),
        clips_slowed=sum(c.speed < 1.0 for c in conformed),
        loop_restarts=restarts,
        # The timeline is built from the audio's own frame count, so the PRD's ±5 % speed fix never applies.
        speed_factor=1.0,
        transitions=kinds,
        cuts=cuts,
        sync=sync,
        wall_time=wall,
        validation=validation,
    )
