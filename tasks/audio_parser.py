"""PRD module 3 as a Prefect task: beats, tempo, energy, sections, boundaries, lyrics."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, cast

from prefect import task
from prefect.context import TaskRunContext

from core import audio as audio_core
from core.contracts import AudioAnalysis, Lyrics
from core.errors import ProviderError, TransientProviderError
from core.hashing import code_fingerprint, sha256_file
from core.settings import get_settings
from providers.base import Transcriber
from providers.registry import get_provider
from tasks.common import content_key, local_file, provider_call, report, retry_options


def _transcriber() -> Transcriber:
    return cast(Transcriber, get_provider("transcription", get_settings().providers.transcription))


def audio_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    settings = get_settings()
    return content_key(
        "audio",
        sha256_file(local_file(params["audio_uri"])),
        settings.audio,
        code_fingerprint("core.audio"),
        _transcriber().cache_identity(),
        params.get("duration_hint"),
    )


def _transcribe(job_id: str, transcriber: Transcriber, path: Path, duration: float) -> Lyrics:
    """Transient errors are retried here, not by re-running the whole analysis; a final failure means an
    instrumental track (PRD), not a failed job."""
    settings = get_settings()
    error: ProviderError | None = None
    for attempt in range(settings.retries + 1):
        try:
            with provider_call(job_id, transcriber):
                return transcriber.transcribe(path, duration=duration)
        except TransientProviderError as exc:
            error = exc
            time.sleep(settings.retry_backoff * 2**attempt * random.uniform(0.5, 1.5))
        except ProviderError as exc:
            error = exc
            break
    return Lyrics(provider=transcriber.provider_id, fallback_used=True, error=str(error))


@task(name="audio_parser", task_run_name="audio_parser", cache_key_fn=audio_key, persist_result=True, **retry_options())
def parse_audio(job_id: str, audio_uri: str, duration_hint: float | None = None) -> AudioAnalysis:
    settings = get_settings()
    path = local_file(audio_uri)
    report(job_id, "audio", "running", 5, "Detecting beats, tempo and sections")
    analysis = audio_core.analyze(path, settings=settings.audio, duration_hint=duration_hint, source_uri=audio_uri)
    report(job_id, "audio", "running", 70, "Transcribing lyrics")
    transcriber = _transcriber()
    lyrics = _transcribe(job_id, transcriber, path, analysis.duration)
    analysis = analysis.model_copy(update={"lyrics": lyrics})
    grid = " (tempo grid fallback)" if analysis.fallback_used else ""
    report(
        job_id,
        "audio",
        "completed",
        100,
        f"{analysis.tempo:.0f} BPM, {len(analysis.beats)} beats{grid}, {len(analysis.boundaries)} clips",
        cost=lyrics.cost,
    )
    return analysis
