"""The review step of director mode: the run waits for an approved storyboard through Prefect's input API.

A deployment run is *suspended* (``suspend_flow_run``): its process exits and no worker slot is held; resuming it
(``POST /api/jobs/{id}/approve``, or Resume in the Prefect UI, which sends the same run input) reschedules the run,
which starts again from the top with every stage cached and receives the input here. A run without a deployment
(called in-process) cannot be suspended, so it is *paused* (``pause_flow_run``): it waits in its process.
"""

from __future__ import annotations

from prefect import pause_flow_run, suspend_flow_run
from prefect.input import RunInput
from prefect.runtime import deployment

from core.settings import get_settings
from core.storage import JobKeys
from core.storyboard import STORYBOARD_RECORD, Storyboard
from providers.storage import get_storage
from tasks.common import put_json, report

REVIEW_KEY = "storyboard-review"  # one review per run: a resumed run finds its input under this key


class StoryboardInput(RunInput):
    """What resumes a run waiting for review. No storyboard: the stored one, as the API's edits left it."""

    storyboard: Storyboard | None = None


def stored_storyboard(job_id: str) -> Storyboard | None:
    storage, key = get_storage(), JobKeys(job_id).intermediate(STORYBOARD_RECORD)
    if not storage.exists(key):
        return None
    return Storyboard.model_validate_json(storage.local(storage.uri(key)).read_bytes())


def await_review(job_id: str, board: Storyboard) -> Storyboard:
    """Store ``board`` for review (unless a resumed run finds it stored already, perhaps edited), report
    ``awaiting_review`` and wait for the approved storyboard."""
    stored = stored_storyboard(job_id)
    if stored is None:
        put_json(JobKeys(job_id).intermediate(STORYBOARD_RECORD), board)
        total = board.estimate.total if board.estimate else 0.0
        report(job_id, "job", "awaiting_review", 0, f"Storyboard ready for review: {len(board.clips)} clips, "
               f"estimate ${total:.2f}")  # fmt: skip
    timeout = get_settings().review_timeout
    if deployment.id:
        reply = suspend_flow_run(wait_for_input=StoryboardInput, timeout=timeout, key=REVIEW_KEY)
    else:
        reply = pause_flow_run(wait_for_input=StoryboardInput, timeout=timeout, poll_interval=1, key=REVIEW_KEY)
    approved = reply.storyboard or stored_storyboard(job_id) or board
    report(job_id, "job", "running", 0, f"Storyboard approved: {len(approved.clips)} clips")
    return approved
