"""Director mode: the storyboard a reviewer edits before any clip is paid for, and the versions of a clip.

    Storyboard        the plan (characters, scenes, style, palette, one script and transition per clip), the cuts
                      (detected beat times), per clip the prompt, seed, lock and chosen version, and the estimate
    check()           the one validation of an edit, against the beats, the clip limits and the locks
    edges / slots     the clip boundaries the flow builds its Timeline from

Clip ``k``'s script is ``plan.clips[k]``, the transition into it ``plan.transitions[k - 1]``; the cuts are the
single home of the clips' places. Merging two clips removes a cut (and a script); splitting one adds a cut on a
beat (:func:`split`, :func:`merge`); :func:`lock` keeps a clip through later edits. Every check raises
:class:`core.errors.StoryboardError` naming the field, so the caller can leave the stored storyboard as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.budget import Estimate, VideoChoice, estimate
from core.contracts import Boundary, ClipPrompt, ClipResult, ClipScript, JobRequest, Transition, VideoPlan
from core.errors import StoryboardError
from core.settings import Settings

STORYBOARD_RECORD = "storyboard.json"  # under jobs/{id}/intermediate/
#: director mode's Prefect deployments (served by deployments/serve.py beside music-video; the API starts them)
REGENERATE_DEPLOYMENT = "director-regenerate/director-regenerate"
CHOOSE_DEPLOYMENT = "director-choose/director-choose"
BEAT_TOLERANCE = 1e-3  # seconds: a cut "is" a detected beat when it is within this of one


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClipDirection(Contract):
    """What the director decides per clip, beside its script in the plan."""

    prompt: str = Field("", description="the video prompt; text differing from `written` replaces it")
    written: ClipPrompt | None = Field(None, description="the prompt as written from the script (read-only)")
    written_from: str = Field("", description="digest of the script and style `written` was made from")
    seed: int | None = Field(None, ge=0, description="None: the prompt writer's seed")
    locked: bool = Field(False, description="a locked clip keeps its script, cuts, prompt and version")
    version: int = Field(0, ge=0, description="the clip file in use: 0 the first render, 1.. regenerations")


class Storyboard(Contract):
    job_id: str
    request: JobRequest
    audio_sha256: str = Field(description="the analysed song (the analysis is its cached stage output)")
    duration: float = Field(gt=0, description="song length, seconds")
    beats: list[float] = Field(description="detected beat times: every cut must be one of them")
    plan: VideoPlan
    cuts: list[float] = Field(description="cut times, seconds; clip k runs from cut k-1 to cut k")
    clips: list[ClipDirection]
    estimate: Estimate | None = Field(None, description="recomputed after every edit")

    def edges(self) -> list[float]:
        return [0.0, *self.cuts, self.duration]

    def slots(self) -> list[float]:
        """Each clip's length, seconds."""
        e = self.edges()
        return [b - a for a, b in zip(e, e[1:], strict=False)]

    def boundaries(self) -> list[Boundary]:
        e = self.edges()
        return [
            Boundary(index=k, start=a, end=b, duration=b - a) for k, (a, b) in enumerate(zip(e, e[1:], strict=False))
        ]


class StoryboardStatus(Contract):
    """Where a director job stands (the API's view of one)."""

    state: Literal["awaiting_review", "rendering", "rendered"]
    storyboard: Storyboard


def new_storyboard(
    job_id: str,
    request: JobRequest,
    *,
    audio_sha256: str,
    duration: float,
    beats: Sequence[float],
    plan: VideoPlan,
    boundaries: Sequence[Boundary],
    prompts: Sequence[ClipPrompt],
    settings: Settings,
    video: VideoChoice | None = None,
) -> Storyboard:
    """The storyboard of a planned job, as the pipeline would render it."""
    board = Storyboard(
        job_id=job_id,
        request=request,
        audio_sha256=audio_sha256,
        duration=duration,
        beats=list(beats),
        plan=plan,
        cuts=[b.end for b in sorted(boundaries, key=lambda b: b.index)[:-1]],
        clips=[ClipDirection(prompt=p.prompt, written=p, written_from=script_digest(plan, p.index)) for p in prompts],
    )
    return with_estimate(board, settings, video)


def with_estimate(board: Storyboard, settings: Settings, video: VideoChoice | None = None) -> Storyboard:
    video = video or (board.estimate.video if board.estimate else None)
    est = estimate(board.duration, settings, video=video, slots=board.slots())
    return board.model_copy(update={"estimate": est})


def check(board: Storyboard, settings: Settings, previous: Storyboard | None = None) -> Storyboard:
    """``board`` validated against its beats, the clip limits and (given the stored ``previous``) the locks and
    the song; returns it with a fresh estimate. Raises StoryboardError naming the first field at fault."""
    a = settings.audio
    n = len(board.clips)
    if n < a.min_clips:
        raise StoryboardError("clips", f"{n} clips; a video needs at least {a.min_clips}")
    if len(board.cuts) != n - 1:
        raise StoryboardError("cuts", f"{len(board.cuts)} cuts for {n} clips; need {n - 1}")
    if len(board.plan.clips) != n:
        raise StoryboardError("plan.clips", f"{len(board.plan.clips)} scripts for {n} clips")
    if previous is not None:
        for name in ("job_id", "audio_sha256", "duration", "beats"):
            if getattr(board, name) != getattr(previous, name):
                raise StoryboardError(name, "is fixed by the song and the job; it cannot be edited")
        _check_locks(board, previous)  # first: "clip 6 is locked" says more than the length a merge would give
    for k, cut in enumerate(board.cuts):
        if not any(abs(cut - b) <= BEAT_TOLERANCE for b in board.beats):
            near = min(board.beats, key=lambda b: abs(b - cut), default=None)
            hint = f" (nearest beat {near:.3f} s)" if near is not None else ""
            raise StoryboardError(f"cuts[{k}]", f"{cut:.3f} s is not a detected beat{hint}")
    edges = board.edges()
    for k, (start, end) in enumerate(zip(edges, edges[1:], strict=False)):
        length = end - start
        if not a.min_clip - 1e-6 <= length <= a.max_clip + 1e-6:
            raise StoryboardError(
                f"clips[{k}]",
                f"would run {start:.2f}-{end:.2f} s ({length:.2f} s); clips are {a.min_clip:g}-{a.max_clip:g} s",
            )
    return with_estimate(board, settings)


def _check_locks(board: Storyboard, previous: Storyboard) -> None:
    """A clip locked in ``previous`` must be there again, at the same place, with the same script and direction."""
    before = {(round(a, 6), round(b, 6)): k for k, (a, b) in enumerate(_spans(previous))}
    now = {(round(a, 6), round(b, 6)): k for k, (a, b) in enumerate(_spans(board))}
    for span, k in before.items():
        old = previous.clips[k]
        if not old.locked:
            continue
        j = now.get(span)
        if j is None:
            raise StoryboardError("cuts", f"clip {k} is locked: its cuts at {span[0]:.3f}/{span[1]:.3f} s must stay")
        new = board.clips[j]
        script_old = previous.plan.clips[k].model_dump(exclude={"index"})
        script_new = board.plan.clips[j].model_dump(exclude={"index"})
        if script_new != script_old:
            raise StoryboardError(f"plan.clips[{j}]", f"clip {j} is locked: unlock it before editing its script")
        # unlocking is an edit of its own (the next one may change the clip): nothing else of it may change with it
        if (new.prompt, new.seed, new.version) != (old.prompt, old.seed, old.version):
            raise StoryboardError(f"clips[{j}]", f"clip {j} is locked: unlock it before changing it")


def _spans(board: Storyboard) -> list[tuple[float, float]]:
    e = board.edges()
    return list(zip(e, e[1:], strict=False))


def plan_of(board: Storyboard) -> VideoPlan:
    """The plan to render: the storyboard's (reindexed, checked by VideoPlan's own rules)."""
    try:
        return VideoPlan.model_validate(board.plan.model_dump())
    except ValidationError as exc:
        first = exc.errors()[0]
        raise StoryboardError("plan." + ".".join(map(str, first["loc"])), first["msg"]) from None


def script_digest(plan: VideoPlan, index: int) -> str:
    """What a clip's prompt is written from: the plan's look, the clip's script and its transitions."""
    parts = [
        plan.model_dump(mode="json", include={"summary", "characters", "scenes", "objects", "style"}),
        plan.clips[index].model_dump(mode="json"),
        [t.kind for t in plan.transitions if index in (t.from_index, t.to_index)],
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def direct(prompt: ClipPrompt, direction: ClipDirection, plan: VideoPlan) -> ClipPrompt:
    """The prompt a clip is rendered from. A locked clip, or one whose script and style are as they were at
    review, keeps the prompt written then (a paid writer's new words would make its clip render again); an
    edited text and a chosen seed replace the writer's."""
    base = prompt
    if direction.written is not None and (
        direction.locked or direction.written_from == script_digest(plan, prompt.index)
    ):
        base = direction.written.model_copy(update={"index": prompt.index, "reference_uri": prompt.reference_uri})
    update: dict[str, object] = {}
    if direction.prompt and direction.written is not None and direction.prompt != direction.written.prompt:
        update["prompt"] = direction.prompt
    if direction.seed is not None:
        update["seed"] = direction.seed
    return base.model_copy(update=update) if update else base


def split(board: Storyboard, clip: int, at: float | None = None) -> Storyboard:
    """Clip ``clip`` cut in two at the beat ``at`` (by default the beat nearest its middle); both halves keep its
    script and direction, unlocked. :func:`check` then holds each half to the clip limits."""
    _clip_index(board, clip)
    start, end = board.edges()[clip : clip + 2]
    if at is None:
        inside = [b for b in board.beats if start + BEAT_TOLERANCE < b < end - BEAT_TOLERANCE]
        if not inside:
            raise StoryboardError("at", f"clip {clip} ({start:.2f}-{end:.2f} s) has no beat to split it on")
        at = min(inside, key=lambda b: abs(b - (start + end) / 2))
    elif not start < at < end:
        raise StoryboardError("at", f"{at:.3f} s is outside clip {clip} ({start:.2f}-{end:.2f} s)")
    plan = board.plan
    scripts = [*plan.clips[: clip + 1], plan.clips[clip], *plan.clips[clip + 1 :]]
    cut_in = Transition(from_index=clip, to_index=clip + 1, kind="cut", duration=0.0)
    transitions = [*plan.transitions[:clip], cut_in, *plan.transitions[clip:]]
    direction = board.clips[clip].model_copy(update={"locked": False, "version": 0})
    clips = [*board.clips[:clip], direction, direction, *board.clips[clip + 1 :]]
    cuts = sorted([*board.cuts, at])
    return _reindexed(board, scripts, transitions, cuts, clips)


def merge(board: Storyboard, clip: int) -> Storyboard:
    """Clip ``clip`` and the next one as one clip (with ``clip``'s script): the cut between them goes."""
    _clip_index(board, clip)
    if clip + 1 >= len(board.clips):
        raise StoryboardError("clip", f"clip {clip} is the last one; merge it into the one before")
    plan = board.plan
    scripts = [*plan.clips[: clip + 1], *plan.clips[clip + 2 :]]
    transitions = [*plan.transitions[:clip], *plan.transitions[clip + 1 :]]
    clips = [*board.clips[: clip + 1], *board.clips[clip + 2 :]]
    cuts = [c for k, c in enumerate(board.cuts) if k != clip]
    return _reindexed(board, scripts, transitions, cuts, clips)


def lock(board: Storyboard, clip: int, locked: bool = True) -> Storyboard:
    """Clip ``clip`` locked (kept through later edits and never regenerated) or unlocked."""
    _clip_index(board, clip)
    clips = [c.model_copy(update={"locked": locked}) if k == clip else c for k, c in enumerate(board.clips)]
    return board.model_copy(update={"clips": clips})


class StoryboardEdit(Contract):
    """One structural edit of a storyboard, as the API, the CLI and the web editor send it."""

    op: Literal["split", "merge", "lock", "unlock"] = Field(
        description="split: cut the clip in two on a beat; merge: join it with the next; lock/unlock"
    )
    clip: int = Field(ge=0, description="clip index, 0-based")
    at: float | None = Field(None, description="split only: the beat to cut on (default: nearest the middle)")

    def apply(self, board: Storyboard) -> Storyboard:
        """The edited storyboard, not yet checked (:func:`check` it against ``board``)."""
        if self.op == "split":
            return split(board, self.clip, self.at)
        if self.at is not None:
            raise StoryboardError("at", f"only a split takes a time, not a {self.op}")
        if self.op == "merge":
            return merge(board, self.clip)
        return lock(board, self.clip, self.op == "lock")


def _reindexed(
    board: Storyboard,
    scripts: list[ClipScript],
    transitions: list[Transition],
    cuts: list[float],
    clips: list[ClipDirection],
) -> Storyboard:
    scripts = [s.model_copy(update={"index": i}) for i, s in enumerate(scripts)]
    transitions = [t.model_copy(update={"from_index": i, "to_index": i + 1}) for i, t in enumerate(transitions)]
    plan = board.plan.model_copy(update={"clips": scripts, "transitions": transitions})
    return board.model_copy(update={"plan": plan, "cuts": cuts, "clips": clips})


def _clip_index(board: Storyboard, clip: int) -> None:
    if not 0 <= clip < len(board.clips):
        raise StoryboardError("clip", f"no clip {clip}: the storyboard has clips 0-{len(board.clips) - 1}")


# --------------------------------------------------------------------------- versions of a clip


class ClipVersion(Contract):
    """One generation of a clip: version 0 is the first render, 1.. the regenerations."""

    version: int = Field(ge=0)
    clip: ClipResult
    prompt: str
    seed: int = Field(ge=0)
    sha256: str = Field("", description="of the clip file")


class ClipVersions(Contract):
    index: int = Field(ge=0)
    chosen: int = 0
    versions: list[ClipVersion] = Field(default_factory=list)

    def next_version(self) -> int:
        return max((v.version for v in self.versions), default=0) + 1

    def get(self, version: int) -> ClipVersion:
        for v in self.versions:
            if v.version == version:
                return v
        known = ", ".join(str(v.version) for v in self.versions) or "none"
        raise StoryboardError("version", f"clip {self.index} has no version {version} (versions: {known})")


def check_regenerate(
    clips: int, clip: int, variants: int, settings: Settings, *, locked: bool = False, running: bool = False
) -> None:
    """A regeneration request, refused before anything is spent."""
    if running:
        raise StoryboardError("job", "the job is still running; regenerate once it is done")
    if not 0 <= clip < clips:
        raise StoryboardError("clip", f"no clip {clip}: the video has clips 0-{clips - 1}")
    if not 1 <= variants <= settings.max_variants:
        raise StoryboardError("variants", f"{variants} variants; ask for 1-{settings.max_variants}")
    if locked:
        raise StoryboardError("clip", f"clip {clip} is locked; unlock it to regenerate it")
