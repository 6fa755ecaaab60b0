"""Folding a job's events into its status (no servers needed)."""

from __future__ import annotations

from api.jobstate import fold
from api.store import StoredEvent
from core.contracts import ProgressEvent


def _events(*specs: tuple[str, str, float, int | None]) -> list[StoredEvent]:
    return [
        StoredEvent(id=f"{i}-0", event=ProgressEvent(job_id="j", stage=stage, status=status, progress=p,  # type: ignore[arg-type]
                                                     clip_index=clip, clip_count=4 if clip is not None else None))
        for i, (stage, status, p, clip) in enumerate(specs, start=1)
    ]  # fmt: skip


def test_progress_moves_with_clips_and_is_not_counted_twice() -> None:
    """Input tried: audio/plan/reference/prompts done (job at 15 %), then 2 of 4 clips finished."""
    before = _events(("job", "running", 0, None), ("audio", "completed", 100, None), ("job", "running", 8, None),
                     ("plan", "completed", 100, None), ("job", "running", 10, None),
                     ("reference", "completed", 100, None), ("job", "running", 13, None),
                     ("prompts", "completed", 100, None), ("job", "running", 15, None))  # fmt: skip
    assert fold("j", before, {}).progress == 15  # a finished stage is not added again on top of its job event
    clips = _events(("video", "running", 0, 0), ("video", "running", 100, 0), ("video", "running", 0, 1),
                    ("video", "running", 100, 1))  # fmt: skip
    status = fold("j", before + clips, {})
    assert status.stage == "video" and status.stage_progress == 50
    assert status.progress == 15 + 75 * 0.5
    done = fold("j", before + clips + _events(("job", "complete", 100, None)), {})
    assert done.status == "complete" and done.progress == 100
