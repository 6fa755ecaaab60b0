"""The clip timeline: frame-exact slots, transition windows and fades, built once right after planning.

Everything that needs a clip's place in the video reads it here, by slot index: the prompt writer and the video
model (a slot's length and the beats inside it), each clip's early conform (its piece layout), the composer (the
whole layout) and the API (the storyboard). Moving a cut is an edit of one object.

The output has ``round(audio_duration * fps)`` frames. Slot k covers frames ``[start_frame, end_frame)``; the
first and last slots snap to the ends of the song. A transition window of ``w`` frames is centred on its cut, so
the cut stays on the beat and no time is added or lost; the windows at both ends of a segment never overlap.

The output format lives here too: the timeline's ``aspect`` and frame size (``output_size``: 1920x1080, 1080x1920,
1080x1080 with the default render settings), which every clip's conform (``ConformSpec``), the composer and the
offline renderer read (``Timeline.render`` / ``ConformSpec.render``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import CompositionError
from core.settings import RenderSettings

if TYPE_CHECKING:  # the contracts embed the Timeline, so they import this module
    from core.contracts import Boundary, Transition

TransitionKind = Literal["cut", "crossfade", "fade"]
#: the output formats: landscape (YouTube), vertical (TikTok, Reels, Shorts), square (feeds)
Aspect = Literal["16:9", "9:16", "1:1"]
ASPECTS: tuple[str, ...] = get_args(Aspect)


def output_size(aspect: str, render: RenderSettings | None = None) -> tuple[int, int]:
    """(width, height) of the video in ``aspect``: the render settings' frame (1920x1080) for 16:9, turned for 9:16
    and its short side squared for 1:1. ValueError names the formats for any other aspect."""
    render = render or RenderSettings()
    long, short = max(render.width, render.height), min(render.width, render.height)
    sizes = {"16:9": (long, short), "9:16": (short, long), "1:1": (short, short)}
    if aspect not in sizes:
        raise ValueError(f"unknown aspect {aspect!r} (choose from: {', '.join(ASPECTS)})")
    return sizes[aspect]


TIMELINE_RECORD = "timeline.json"  # under jobs/{id}/intermediate/, written right after planning


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Slot(Contract):
    index: int = Field(ge=0)
    start_frame: int = Field(ge=0)
    end_frame: int = Field(gt=0, description="exclusive")
    start: float = Field(ge=0, description="seconds, on the frame grid")
    end: float = Field(gt=0)
    duration: float = Field(gt=0)
    beats: list[float] = Field(default_factory=list, description="beat times inside the slot, from slot start")

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


class Window(Contract):
    """The transition into slot ``to_index`` as planned (every clip present): ``frames`` centred on the cut."""

    to_index: int = Field(ge=1)
    kind: TransitionKind
    frames: int = Field(ge=0, description="0 for a hard cut")


class Timeline(Contract):
    fps: int = Field(gt=0)
    aspect: Aspect = "16:9"
    width: int = Field(1920, gt=0, description="output frame, from the aspect (output_size)")
    height: int = Field(1080, gt=0)
    frames: int = Field(gt=0, description="total output frames")
    slots: list[Slot] = Field(min_length=1)
    windows: list[Window]
    fade_in: int = Field(0, ge=0, description="frames")
    fade_out: int = Field(0, ge=0, description="frames")

    @model_validator(mode="after")
    def _contiguous(self) -> Timeline:
        edges = [s.start_frame for s in self.slots] + [self.slots[-1].end_frame]
        if edges[0] != 0 or edges[-1] != self.frames or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"slots must tile frames 0..{self.frames} in order: {edges}")
        if [s.index for s in self.slots] != list(range(len(self.slots))):
            raise ValueError("slots out of order")
        if [w.to_index for w in self.windows] != list(range(1, len(self.slots))):
            raise ValueError("need one window per cut")
        return self

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def render(self, render: RenderSettings) -> RenderSettings:
        """The render settings with this timeline's output frame (the one size the composer encodes)."""
        return render.model_copy(update={"width": self.width, "height": self.height})

    def slot(self, index: int) -> Slot:
        if not 0 <= index < len(self.slots):
            raise IndexError(f"no slot {index} (the timeline has {len(self.slots)})")
        return self.slots[index]

    def cuts(self) -> list[float]:
        """Cut times (seconds) with every clip present."""
        return [s.start for s in self.slots[1:]]

    def layout(self, succeeded: Collection[int]) -> Layout:
        return _layout(self, set(succeeded))

    def conform_spec(self, index: int) -> ConformSpec:
        """Slot ``index``'s piece layout assuming every clip succeeds, so a clip can be conformed the moment it
        arrives; the composer then finds it in the cache (only a failed clip's neighbours are conformed again)."""
        seg = next(s for s in self.layout(range(len(self.slots))).segments if s.clip == index)
        return seg.spec.sized(self.width, self.height)


def build_timeline(
    boundaries: list[Boundary],
    transitions: list[Transition],
    *,
    audio_duration: float,
    beats: list[float],
    fps: int,
    fade_in: float = 0.0,
    fade_out: float = 0.0,
    aspect: Aspect = "16:9",
    render: RenderSettings | None = None,
) -> Timeline:
    """The frame grid of the analysis's boundaries and the plan's transitions and fades, in ``aspect``."""
    width, height = output_size(aspect, render)
    slots = sorted(boundaries, key=lambda b: b.index)
    total = round(audio_duration * fps)
    if not slots or total <= 0:
        raise CompositionError("no clip boundaries, or no audio")
    edges = [0, *(min(total, round(b.end * fps)) for b in slots[:-1]), total]
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise CompositionError(f"boundaries collapse on the {fps} fps grid or exceed the audio: {edges}")
    out: list[Slot] = []
    for k, (a, b) in enumerate(zip(edges, edges[1:], strict=False)):
        start, end = a / fps, b / fps
        inside = [round(t - start, 4) for t in beats if start <= t < end]
        out.append(Slot(index=k, start_frame=a, end_frame=b, start=round(start, 6), end=round(end, 6),
                        duration=round(end - start, 6), beats=inside))  # fmt: skip
    by_target = {t.to_index: t for t in transitions}
    windows = []
    for k in range(1, len(out)):
        tr = by_target.get(k)
        kind: TransitionKind = tr.kind if tr else "cut"
        frames = round(tr.duration * fps) if tr and kind != "cut" else 0
        frames = min(frames, out[k - 1].frames // 2, out[k].frames // 2)
        if frames < 2:
            kind, frames = "cut", 0
        windows.append(Window(to_index=k, kind=kind, frames=frames))
    return Timeline(fps=fps, frames=total, slots=out, windows=windows, fade_in=min(round(fade_in * fps), out[0].frames),
                    fade_out=min(round(fade_out * fps), out[-1].frames), aspect=aspect, width=width,
                    height=height)  # fmt: skip


# --------------------------------------------------------------------------- layout: the timeline with failures


@dataclass(frozen=True)
class ConformSpec:
    """One clip's conform layout: what ``core.compose.conform_clip`` and ``conform_frames`` make of a clip."""

    frames: int
    head: int = 0
    tail: int = 0
    fade_in: int = 0
    fade_out: int = 0
    width: int = 1920  # the output frame (the timeline's)
    height: int = 1080
    start: int = 0  # song frame of the first conformed frame (where burned-in subtitles are read from)
    subtitles: str | None = None  # ASS file in song time to burn in (karaoke captions), set by the flow
    beats: tuple[int, ...] = ()  # beat frames, from the first conformed frame: where a loop may restart

    def sized(self, width: int, height: int) -> ConformSpec:
        return replace(self, width=width, height=height)

    def render(self, render: RenderSettings) -> RenderSettings:
        return render.model_copy(update={"width": self.width, "height": self.height})


@dataclass
class Segment:
    """One succeeded clip on the output: frames [start, end) plus transition padding on both sides."""

    clip: int
    first_slot: int
    start: int
    end: int
    pre: int = 0  # frames before `start` (first half of the incoming window)
    post: int = 0  # frames after `end` (second half of the outgoing window)
    head: int = 0  # incoming window length
    tail: int = 0  # outgoing window length
    fade_in: int = 0
    fade_out: int = 0
    beats: list[int] = field(default_factory=list)  # song frames of the beats in its slots

    @property
    def frames(self) -> int:
        return self.end + self.post - (self.start - self.pre)

    @property
    def spec(self) -> ConformSpec:
        first = self.start - self.pre
        beats = tuple(sorted({b - first for b in self.beats if 0 < b - first < self.frames}))
        return ConformSpec(self.frames, self.head, self.tail, self.fade_in, self.fade_out, start=first, beats=beats)


@dataclass(frozen=True)
class Cut:
    frame: int
    kind: TransitionKind
    window: int  # frames; 0 for a hard cut


@dataclass
class Layout:
    total: int
    segments: list[Segment]
    cuts: list[Cut]
    failed: list[int]


def _layout(timeline: Timeline, succeeded: set[int]) -> Layout:
    """A failed slot goes to the previous good clip (the next one for leading failures): its cut disappears."""
    good = [s.index for s in timeline.slots if s.index in succeeded]
    failed = [s.index for s in timeline.slots if s.index not in succeeded]
    if len(good) < 2:
        raise CompositionError(f"only {len(good)} clip(s) succeeded; need at least 2 to compose")
    segments: list[Segment] = []
    for slot in timeline.slots:
        owner = max((g for g in good if g <= slot.index), default=good[0])
        if not segments or segments[-1].clip != owner:
            segments.append(Segment(owner, slot.index, slot.start_frame, slot.end_frame))
        segments[-1].end = slot.end_frame
        segments[-1].beats += [slot.start_frame + round(b * timeline.fps) for b in slot.beats]
    planned = {w.to_index: w for w in timeline.windows}
    cuts: list[Cut] = []
    for out_seg, in_seg in zip(segments, segments[1:], strict=False):
        w = planned[in_seg.first_slot]
        window = min(w.frames, (out_seg.end - out_seg.start) // 2, (in_seg.end - in_seg.start) // 2)
        kind: TransitionKind = w.kind if window >= 2 else "cut"
        window = window if kind != "cut" else 0
        before = window // 2
        out_seg.post, out_seg.tail = window - before, window
        in_seg.pre, in_seg.head = before, window
        cuts.append(Cut(in_seg.start, kind, window))
    first, last = segments[0], segments[-1]
    first.fade_in = min(timeline.fade_in, first.end - first.start)
    last.fade_out = min(timeline.fade_out, last.end - last.start)
    return Layout(timeline.frames, segments, cuts, failed)


def prefer_cuts_at(
    cuts: list[float],
    targets: list[float],
    beats: list[float],
    *,
    reach: float,
    min_len: float,
    max_len: float,
    on_beat: float = 0.08,
) -> list[float]:
    """Move each inner cut to the nearest ``target`` (e.g. a lyric line start) within ``reach`` s that lies on a
    beat (within ``on_beat`` s: it moves to that beat), when both slots it bounds stay ``min_len``..``max_len``.
    ``cuts`` are all slot edges, first (0) and last (the end) included; those two never move."""
    if len(cuts) < 3 or not targets or not beats:
        return list(cuts)
    out = list(cuts)
    for i in range(1, len(out) - 1):
        best = None
        for t in targets:
            beat = min(beats, key=lambda b: abs(b - t))
            if abs(beat - t) > on_beat or abs(beat - out[i]) > reach:
                continue
            fits = min_len <= beat - out[i - 1] <= max_len and min_len <= out[i + 1] - beat <= max_len
            if fits and (best is None or abs(beat - out[i]) < abs(best - out[i])):
                best = beat
        if best is not None:
            out[i] = best
    return out
