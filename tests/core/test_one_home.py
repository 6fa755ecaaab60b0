"""The stage registry, the event fold, the timeline and the failed-clip policy: each concept's one home."""

from __future__ import annotations

import pytest

from core.clips import check_clips
from core.contracts import Boundary, ClipResult, ProgressEvent, Transition
from core.errors import ClipsFailedError, CompositionError
from core.progress import fold
from core.settings import ProviderChoice
from core.stages import PROVIDER_KINDS, STAGE_IDS, STAGES, stage, stage_of_task
from core.storage import JobKeys
from core.timeline import build_timeline
from providers.registry import REGISTRY


def test_stage_registry_is_complete_and_consistent() -> None:
    """Input: the registry itself. Weights add to 100; every provider kind is a setting and a registry kind."""
    assert sum(s.weight for s in STAGES) == 100
    assert set(PROVIDER_KINDS) == set(ProviderChoice.model_fields) == set(REGISTRY)
    assert stage_of_task("video_generator-3") is stage("video")
    assert stage_of_task("budget_guard") is None
    assert JobKeys("j").stage("plan") == "jobs/j/intermediate/plan.json"
    with pytest.raises(ValueError, match="keeps no record"):
        JobKeys("j").stage("compose")
    with pytest.raises(KeyError, match="unknown stage 'lyrics'"):
        stage("lyrics")


def _ev(stage_id: str, status: str, progress: float, clip: int | None = None, cost: float = 0.0) -> ProgressEvent:
    return ProgressEvent(job_id="j", stage=stage_id, status=status, progress=progress, clip_index=clip,  # type: ignore[arg-type]
                         clip_count=4 if clip is not None else None, cost=cost)  # fmt: skip


def test_fold_counts_a_failed_clip_as_finished_but_not_as_ready_or_paid() -> None:
    """Input: stages up to prompts done (job at 15 %), then clip 0 ready ($0.10), clip 1 failed, 2 and 3 pending."""
    done = [_ev(s, "completed", 100) for s in ("audio", "plan", "reference", "prompts")]
    clips = [_ev("video", "running", 100, clip=0, cost=0.10), _ev("video", "failed", 100, clip=1, cost=0.5)]
    events = [_ev("job", "running", 0), *done, _ev("job", "running", 15), *clips]
    status = fold(events)
    video = next(v for v in status.stages if v.id == "video")
    assert video.state == "running" and video.progress == 50  # 2 of 4 finished
    assert status.progress == 15 + 75 * 0.5
    assert status.clips_ready == [0] and status.clips_failed == [1]
    assert status.cost.by_stage["video"] == pytest.approx(0.10)
    assert [v.state for v in status.stages[:4]] == ["done"] * 4 and status.stages[5].state == "pending"


def test_fold_marks_the_failed_stage_and_finishes_all_on_complete() -> None:
    """Input: a plan failure then the job error; separately a run that completes after a cached audio stage."""
    failed = fold([_ev("audio", "completed", 100), _ev("plan", "failed", 100), _ev("job", "error", 8)])
    assert failed.status == "error" and failed.error is not None and failed.error.stage == "plan"
    assert next(v for v in failed.stages if v.id == "plan").state == "failed"
    done = fold([_ev("audio", "cached", 100), _ev("video", "running", 0, clip=0), _ev("job", "complete", 100, cost=1)])
    assert done.status == "complete" and done.progress == 100 and done.cost.total == 1
    assert [v.state for v in done.stages] == ["cached", "done", "done", "done", "done", "done"]
    assert [v.id for v in done.stages] == list(STAGE_IDS)


def _boundaries(edges: list[float]) -> list[Boundary]:
    return [
        Boundary(index=i, start=a, end=b, duration=b - a)
        for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False))
    ]


def test_timeline_is_frame_exact_and_covers_failed_slots() -> None:
    """Input: 4 slots over 12 s at 30 fps with a crossfade, a fade and a cut; then clip 1 fails."""
    edges = [0.0, 3.01, 6.5, 9.0, 12.0]
    transitions = [Transition(from_index=0, to_index=1, kind="crossfade", duration=0.5),
                   Transition(from_index=1, to_index=2, kind="fade", duration=0.5),
                   Transition(from_index=2, to_index=3, kind="cut", duration=0.0)]  # fmt: skip
    tl = build_timeline(_boundaries(edges), transitions, audio_duration=12.0, beats=[0.5, 3.0, 3.5, 11.9], fps=30,
                        fade_in=0.5, fade_out=1.0)  # fmt: skip
    assert tl.frames == 360 and [s.start_frame for s in tl.slots] == [0, 90, 195, 270]
    # slot 1 starts on frame 90 = 3.0 s (the frame grid, not the 3.01 boundary): beats at 3.0 and 3.5 are its
    assert tl.slot(0).beats == [0.5] and tl.slot(1).beats == [0.0, 0.5]
    assert [(w.kind, w.frames) for w in tl.windows] == [("crossfade", 15), ("fade", 15), ("cut", 0)]
    everyone = tl.layout(range(4))
    assert sum(s.end - s.start for s in everyone.segments) == 360
    assert tl.conform_spec(0).frames == 90 + 8 and tl.conform_spec(0).fade_in == 15
    covered = tl.layout([0, 2, 3])
    assert [s.clip for s in covered.segments] == [0, 2, 3] and covered.failed == [1]
    assert covered.segments[0].end == 195  # clip 0 covers slot 1
    with pytest.raises(CompositionError, match="need at least 2"):
        tl.layout([3])
    with pytest.raises(IndexError):
        tl.slot(4)


def _clip(i: int, ok: bool) -> ClipResult:
    return ClipResult(index=i, status="succeeded" if ok else "failed", provider="offline", target_duration=3,
                      requested_duration=4)  # fmt: skip


def test_failed_clip_policy() -> None:
    """Input: one of three clips failed, with and without allow_partial; then two of three failed."""
    clips = [_clip(0, True), _clip(1, False), _clip(2, True)]
    assert check_clips(clips, allow_partial=True) == [1]
    with pytest.raises(ClipsFailedError, match=r"clips \[1\] failed"):
        check_clips(clips, allow_partial=False)
    with pytest.raises(CompositionError, match="only 1 of 3"):
        check_clips([_clip(0, True), _clip(1, False), _clip(2, False)], allow_partial=True)
