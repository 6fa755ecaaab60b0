"""The parent flow: song + prompt -> JobResult. Wiring only; every stage is a task in ``tasks/``.

    audio_parser -> scene_planner -> [timeline] -> reference_generator -> prompt_generator[i]
        -> video_generator[i] -> composer

Only serialisable parameters go in (so deployments and the API can start it), the JobResult contract comes out.
Each stage runs through ``JobRun.stage`` (flows/stage_run.py); the timeline (core/timeline.py) is built once after
planning and every later stage reads its slots.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from prefect import flow
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from core.budget import close_job
from core.clips import check_clips
from core.contracts import CostReport, JobRequest, JobResult
from core.errors import AudioError, CompositionError, PipelineError, StorageError
from core.media import probe
from core.settings import Quality, get_settings
from core.timeline import TIMELINE_RECORD, build_timeline
from flows.artifacts import publish_analysis, publish_result
from flows.stage_run import Files, JobRun, run_count
from providers.storage import get_storage
from tasks.audio_parser import parse_audio
from tasks.common import configured, local_file, put_json, report
from tasks.composer import compose_video
from tasks.guard import check_budget
from tasks.prompt_generator import write_prompt
from tasks.reference_generator import generate_reference, no_reference
from tasks.scene_planner import plan_scenes
from tasks.video_generator import failed_clip, generate_clip


def clip_task_runner() -> TaskRunner[Any]:
    """Where the stage and per-clip tasks run (VIDEOGEN_TASK_RUNNER): a thread pool bounded by
    VIDEOGEN_CLIP_PARALLELISM (prefect notes §3), or a Dask cluster: the one at VIDEOGEN_DASK_ADDRESS, else a
    LocalCluster of VIDEOGEN_DASK_WORKERS single-threaded processes. Dask needs a real Prefect server (§4)."""
    settings = get_settings()
    if settings.task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }  # fmt: skip
        )
    return ThreadPoolTaskRunner(max_workers=settings.clip_parallelism)


class ConfiguredTaskRunner(ThreadPoolTaskRunner[Any]):
    """The flow's task runner, chosen from the settings when a run starts (Prefect duplicates the flow's runner
    for every run), not when this module is imported."""

    def duplicate(self) -> Any:
        return clip_task_runner()


@flow(name="music-video", task_runner=ConfiguredTaskRunner(), log_prints=True)  # type: ignore[arg-type]
def music_video(
    audio_uri: str,
    prompt: str,
    style: str | None = None,
    mood: str | None = None,
    duration_hint: float | None = None,
    job_id: str | None = None,
    allow_partial: bool = True,
    quality: Quality | None = None,
) -> JobResult:
    """Render a beat-synchronised music video of the song at ``audio_uri`` from a creative prompt.

    Parameters
    ----------
    audio_uri : ``file://`` URI (or path) of an MP3/WAV/OGG/FLAC/M4A song.
    prompt : what the video should show.
    style, mood : optional steering ("watercolor", "melancholic").
    duration_hint : preferred clip length in seconds (3-7); boundaries stay on beats.
    job_id : identifies the job's files and events; the flow run's id when omitted, so a retry of the run keeps
        writing to the same job.
    allow_partial : True (PRD): compose from the clips that succeeded (at least 2). False: fail the run when any
        clip failed, after every other clip is done, so a retry (Prefect UI, ``prefect flow-run retry``)
        regenerates just those clips.
    quality : ``draft`` | ``standard`` | ``high`` (x264 preset and CRF, ``core.settings.QUALITY``); unset:
        ``VIDEOGEN_RENDER__QUALITY`` (``standard``).
    """
    job_id = job_id or str(flow_run.get_id() or uuid.uuid4())
    request = JobRequest(audio_uri=audio_uri, prompt=prompt, style=style, mood=mood, duration_hint=duration_hint,
                         quality=quality)  # fmt: skip
    try:
        return _render(job_id, request, allow_partial=allow_partial)
    finally:
        close_job(job_id)  # this process's handle on the spend ledger; the ledger itself outlives a retry


def _render(job_id: str, request: JobRequest, *, allow_partial: bool = True) -> JobResult:
    job = JobRun(job_id)
    keys = job.keys
    report(job_id, "job", "running", 0, "Job started")
    audio_uri = _adopt_song(job, request.audio_uri)
    request = request.model_copy(update={"audio_uri": audio_uri})
    put_json(keys.input("request.json"), request, "input")
    # Paid providers: priced before any call; may pick a cheaper video configuration or refuse (BudgetError).
    estimate = check_budget(job_id, audio_uri, request.duration_hint)
    video = estimate.video if estimate else None
    hint = estimate.duration_hint if estimate and estimate.duration_hint else request.duration_hint

    render = get_settings().render
    render = render.model_copy(update={"quality": request.quality}) if request.quality else render
    parse, plan_, paint = configured(parse_audio), configured(plan_scenes), configured(generate_reference)
    write, generate, compose = configured(write_prompt), configured(generate_clip), configured(compose_video)
    (analysis,) = job.stage("audio", lambda i, fresh: parse.with_options(refresh_cache=fresh).submit(
        job_id, audio_uri, hint), adapt=lambda a: a.model_copy(update={"source": audio_uri}),
        cost=lambda a: a.lyrics.cost)  # fmt: skip
    publish_analysis(job_id, analysis)
    (plan,) = job.stage("plan", lambda i, fresh: plan_.submit(job_id, request, analysis))
    audio_info = probe(local_file(audio_uri), error=AudioError)
    timeline = build_timeline(analysis.boundaries, plan.transitions, beats=analysis.beats,
                              audio_duration=audio_info.audio_duration or audio_info.duration,
                              fps=render.fps, fade_in=plan.fade_in, fade_out=plan.fade_out)  # fmt: skip
    put_json(keys.intermediate(TIMELINE_RECORD), timeline)

    (reference,) = job.stage("reference", lambda i, fresh: paint.with_options(refresh_cache=fresh).submit(
        job_id, plan), files=Files(lambda i: keys.intermediate("reference.png")),
        on_failure=lambda i, exc, fut: _text_only(job_id, plan, exc))  # fmt: skip
    prompts = job.stage(
        "prompts",
        lambda i, fresh: write.submit(job_id, plan.clips[i], plan, reference, analysis),
        items=len(plan.clips),  # prompts cached from another job name its copy of the image
        adapt=lambda p: p.model_copy(update={"reference_uri": reference.uri}) if p.reference_uri else p,
    )
    n = len(prompts)
    clips = job.stage("video", lambda i, fresh: generate.with_options(refresh_cache=fresh).submit(
        job_id, prompts[i], timeline.slot(i), n, video, timeline.conform_spec(i), render), items=n,
        files=Files(lambda i: keys.clip(i, ".mp4")),
        on_failure=lambda i, exc, fut: _failed(job_id, timeline.slot(i), exc, run_count(fut)))  # fmt: skip
    try:
        failed = check_clips(clips, allow_partial=allow_partial)
    except PipelineError as exc:
        raise job.fail("video", exc) from None
    (composition,) = job.stage(
        "compose",
        lambda i, fresh: compose.with_options(refresh_cache=fresh).submit(
            job_id, audio_uri, analysis, timeline, clips, render
        ),
        files=Files(lambda i: keys.final("final.mp4"), "final"),
    )
    if not all(((v := composition.validation).duration_ok, v.sync_ok, v.resolution_ok, v.fps_ok)):  # not complete
        raise job.fail("compose", CompositionError("the video failed validation: " + "; ".join(v.messages)))

    result = JobResult(job_id=job_id, request=request, audio=analysis, plan=plan, timeline=timeline,
                       reference=reference, prompts=prompts, clips=clips, composition=composition,
                       cost=CostReport.from_stages(job.stages), stages=job.stages,
                       output_uri=composition.uri)  # fmt: skip
    put_json(keys.final("result.json"), result, "final")
    publish_result(result)
    note = f"; clips {failed} failed and were covered by neighbours" if failed else ""
    report(job_id, "job", "complete", 100, f"Video ready: {composition.duration:.2f} s{note}", cost=result.cost.total)
    return result


def _adopt_song(job: JobRun, uri: str) -> str:
    """The song into the job's storage (jobs/{id}/input/), where every worker finds it; a no-op for API uploads."""
    try:
        return get_storage().adopt(uri, job.keys.input(_input_name(uri)), "input")
    except (OSError, ValueError, StorageError) as exc:
        raise job.fail("audio", AudioError(f"cannot read the song at {uri}: {exc}")) from exc


def _text_only(job_id: str, plan: Any, exc: BaseException) -> Any:
    """PRD: no style reference after every retry; the clips go text-only."""
    report(job_id, "reference", "failed", 100, f"No style reference, continuing text-only: {exc}")
    return no_reference(plan, str(exc))


def _failed(job_id: str, slot: Any, exc: BaseException, attempts: int) -> Any:
    clip = failed_clip(slot, exc, attempts=attempts)
    report(job_id, "video", "failed", 100, f"Clip {slot.index + 1} failed: {clip.error}", clip_index=slot.index)
    return clip


def _input_name(uri: str) -> str:
    """``audio.<ext>`` whatever the upload was called (the extension tells ffmpeg and the API the format)."""
    suffix = PurePosixPath(urlparse(uri).path).suffix.lower()
    return f"audio{suffix}" if suffix else "audio"
