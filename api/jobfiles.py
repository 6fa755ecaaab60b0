"""A job's files as the API serves them, from the job storage (local directory or S3).

Stage records are read from ``jobs/{id}/intermediate/*.json`` while the job runs, else from the final
``result.json``. Media are served by the API itself from local storage (Range requests included) and, on S3, by a
redirect to a signed, time-limited URL, so video bytes never pass through the API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse, RedirectResponse, Response

from api.errors import Problem
from core.contracts import ClipResult, JobResult
from core.storage import JobKeys, Storage


def read_json(storage: Storage, key: str) -> bytes | None:
    try:
        return storage.read_bytes(key)
    except FileNotFoundError:
        return None


def final_result(storage: Storage, job_id: str) -> JobResult | None:
    raw = read_json(storage, JobKeys(job_id).final("result.json"))
    return JobResult.model_validate_json(raw) if raw is not None else None


def clip_results(storage: Storage, job_id: str) -> tuple[list[ClipResult], bool]:
    """The job's clips so far (each as soon as it is ready), and whether the job is complete."""
    result = final_result(storage, job_id)
    if result is not None:
        return result.clips, True
    keys = JobKeys(job_id)
    clips = []
    for key in storage.list(keys.intermediate("clips/")):
        if key.endswith(".json") and key.rsplit("/", 1)[-1].startswith("clip-"):  # not director mode's versions
            raw = read_json(storage, key)
            if raw is not None:
                clips.append(ClipResult.model_validate_json(raw))
    return sorted(clips, key=lambda c: c.index), False


def media_response(uri: str, *, media_type: str, filename: str, storage: Storage) -> Response:
    """Serve a stored file: from disk (local storage), or a 307 to a signed URL (S3)."""
    key = storage.key(uri)
    if key is None or not storage.exists(key):
        raise Problem(404, "file not found")
    url = storage.signed_url(key, filename=filename)
    if url is not None:
        return RedirectResponse(url, status_code=307)
    path: Path = storage.local_path(key)
    return FileResponse(path, media_type=media_type, filename=filename)
