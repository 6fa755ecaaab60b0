"""PRD module 3 as a Prefect task: beats, tempo, energy, sections, boundaries, lyrics."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext

from core import audio as audio_core
from core import lyrics as lyrics_core
from core import numba_cache
from core.contracts import AudioAnalysis, Boundary, Lyrics
from core.errors import ProviderError, TransientProviderError
from core.hashing import code_fingerprint, sha256_file
from core.settings import get_settings
from core.timeline import prefer_cuts_at
from providers.base import Transcriber, VideoGenerator
from providers.registry import provider_of
from tasks.common import content_key, local_file, provider_call, report, stage_task


def _transcriber() -> Transcriber:
    return provider_of(Transcriber)


def _clip_durations() -> tuple[float, ...]:
    """The clip lengths the selected video model makes: slots are planned to fit them (less looping)."""
    return provider_of(VideoGenerator).offered_durations()


def audio_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    settings = get_settings()
    return content_key(
        "audio",
        sha256_file(local_file(params["audio_uri"])),
        settings.audio,
        code_fingerprint("core.audio", "core.audio_input", "core.lyrics"),
        _transcriber().cache_identity(),
        params.get("duration_hint"),
        params.get("lyrics"),
        _clip_durations(),
    )


def _transcribe(job_id: str, transcriber: Transcriber, path: Path, duration: float) -> Lyrics:
    """The lyrics, or an instrumental track (PRD) once transcription has failed for good, not a failed job.

    One retry layer, Prefect's: a transient error is raised while the task has retries left (a retry redoes the
    analysis too, seconds of CPU, the price of not keeping a second backoff loop here); the last attempt degrades.
    """
    try:
        with provider_call(job_id, transcriber):
            return transcriber.transcribe(path, duration=duration)
    except ProviderError as exc:
        if isinstance(exc, TransientProviderError) and _will_retry():
            raise
        return Lyrics(provider=transcriber.provider_id, fallback_used=True, error=str(exc))


def _cuts_on_lines(analysis: AudioAnalysis, lyrics: Lyrics) -> list[Boundary]:
    """Cuts move to a lyric line's start when it is on a beat within two beats of them (``core.timeline``)."""
    b = analysis.boundaries
    if not lyrics.segments or len(b) < 2:
        return b
    a = get_settings().audio
    longest = min(a.max_clip, max(_clip_durations(), default=a.max_clip))
    lines = [s.start for s in lyrics.segments]
    edges = prefer_cuts_at([x.start for x in b] + [b[-1].end], lines, analysis.beats, reach=2 * 60 / analysis.tempo,
                           min_len=a.min_clip, max_len=max(longest, a.min_clip))  # fmt: skip
    return [Boundary(index=i, start=s, end=e, duration=e - s) for i, (s, e) in enumerate(itertools.pairwise(edges))]


def _will_retry() -> bool:
    """Whether Prefect runs this task again after a transient error (never outside Prefect, e.g. ``.fn()``)."""
    ctx = TaskRunContext.get()
    return ctx is not None and ctx.task_run.run_count <= ctx.task.retries


@stage_task("audio", cache_key_fn=audio_key)
def parse_audio(
    job_id: str, audio_uri: str, duration_hint: float | None = None, lyrics: str | None = None
) -> AudioAnalysis:
    """``lyrics``: the user's lyrics (plain text or LRC), aligned onto the transcriber's words."""
    settings = get_settings()
    path = local_file(audio_uri)
    report(job_id, "audio", "running", 5, "Detecting beats, tempo and sections")
    with numba_cache.warm():  # librosa's kernels: compiled once, never by two flow runs at once
        analysis = audio_core.analyze(
            path,
            settings=settings.audio,
            duration_hint=duration_hint,
            source_uri=audio_uri,
            clip_durations=_clip_durations(),
        )
    report(job_id, "audio", "running", 70, "Transcribing lyrics")
    transcriber = _transcriber()
    heard = _transcribe(job_id, transcriber, path, analysis.duration)
    if lyrics:
        report(job_id, "audio", "running", 90, "Aligning your lyrics")
        lines = lyrics_core.parse(lyrics, duration=analysis.duration)
        heard = lyrics_core.align(lines, heard, duration=analysis.duration, voiced=heard.voiced)
    analysis = analysis.model_copy(update={"lyrics": heard, "boundaries": _cuts_on_lines(analysis, heard)})
    lyrics_note = f", {len(heard.words)} lyric words" if heard.words else ""
    grid = " (tempo grid fallback)" if analysis.fallback_used else ""
    report(
        job_id,
        "audio",
        "completed",
        100,
        f"{analysis.tempo:.0f} BPM {analysis.meter}, {len(analysis.beats)} beats{grid}, "
        f"{len(analysis.boundaries)} clips{lyrics_note}",
        cost=heard.cost,
    )
    return analysis
