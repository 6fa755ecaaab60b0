"""What a job does with failed clips (PRD module 7): plain policy, decided once every clip has finished."""

from __future__ import annotations

from core.contracts import ClipResult
from core.errors import ClipsFailedError, CompositionError

MIN_CLIPS = 2  # the composer covers a failed slot with a neighbour, so two clips are enough for a whole video


def check_clips(clips: list[ClipResult], *, allow_partial: bool) -> list[int]:
    """The failed clip indices, if the video can still be composed; else the error that ends the job.

    ``allow_partial=False`` fails the run when any clip failed (after every other clip is done), so a retry of the
    run regenerates only those clips; otherwise (the PRD's default) neighbours cover them.
    """
    failed = [c.index for c in clips if c.status == "failed"]
    if failed and not allow_partial:
        raise ClipsFailedError(
            f"clips {failed} failed and this run does not accept a partial video; retry the run to regenerate "
            "just those clips"
        )
    ok = len(clips) - len(failed)
    if ok < MIN_CLIPS:
        raise CompositionError(f"only {ok} of {len(clips)} clips were generated; at least {MIN_CLIPS} are needed")
    return failed
