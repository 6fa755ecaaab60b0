"""A job's status for the gateway: its events folded by ``core.progress`` (the one fold), plus the job's meta."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterable
from datetime import datetime

from api.schemas import JobStatus
from api.store import StoredEvent
from core.progress import JobFold, JobProgress

FAILED_FLOW_STATES = frozenset({"FAILED", "CRASHED", "CANCELLED"})
_EXIT = re.compile(r"(?:status code|exit code|exited with)[^-\d]*(-?\d+)", re.IGNORECASE)


def crash_message(state: str, message: str) -> str:
    """What a user reads when the flow's process died without reporting: what happened and what to do, never
    Prefect's ``Process exited with status code: -11``."""
    found = _EXIT.search(message or "")
    code = int(found.group(1)) if found else None
    if code is not None and (code < 0 or code > 128):
        num = -code if code < 0 else code - 128
        try:
            name = signal.Signals(num).name
        except ValueError:
            name = f"signal {num}"
        why = {"SIGSEGV": "it crashed (segmentation fault)", "SIGKILL": "it was killed (out of memory, or stopped)",
               "SIGTERM": "it was stopped (the worker shut down)"}.get(name, f"it was ended by {name}")  # fmt: skip
        return (f"The job's worker process stopped before it could finish: {why}. This is a server fault, not a "
                "problem with your song: submit the job again. If it keeps happening, the operator should check the "
                "worker's log (a damaged numba cache, NUMBA_CACHE_DIR, is one known cause).")  # fmt: skip
    if code is not None:
        return (f"The job's worker process exited unexpectedly (exit status {code}) before it could finish. Submit "
                "the job again; if it keeps happening, the operator should check the worker's log.")  # fmt: skip
    if state.upper() == "CANCELLED":
        return "The job was cancelled before it finished."
    if state.upper() == "CRASHED":
        return ("The job's worker process stopped before it could finish. Submit the job again; if it keeps "
                "happening, the operator should check the worker's log.")  # fmt: skip
    return message or f"the flow run ended {state.lower()}"


def with_meta(job_id: str, progress: JobProgress, meta: dict[str, str]) -> JobStatus:
    created = meta.get("created_at")
    return JobStatus(
        **progress.model_dump(),
        job_id=job_id,
        created_at=datetime.fromisoformat(created) if created else None,
        prompt=meta.get("prompt", ""),
        flow_run_id=meta.get("flow_run_id") or None,
        video_url=f"/api/jobs/{job_id}/video" if progress.status == "complete" else None,
        clips_url=f"/api/jobs/{job_id}/clips",
    )


def fold(job_id: str, events: Iterable[StoredEvent], meta: dict[str, str]) -> JobStatus:
    folder = JobFold()
    for stored in events:
        folder.apply(stored.event, stored.id)
    return with_meta(job_id, folder.snapshot(), meta)
