"""The parent flow: song + prompt -> JobResult. Wiring only; every stage is a task in ``tasks/``.

    audio_parser -> scene_planner -> [timeline] -> reference_generator -> prompt_generator[i]
        -> video_generator[i] -> composer

Only serialisable parameters go in (so deployments and the API can start it), the JobResult contract comes out.
Each stage runs through ``JobRun.stage`` (flows/stage_run.py); the timeline (core/timeline.py) is built once after
planning and every later stage reads its slots.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from prefect import flow
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import ValidationError

from core.budget import VideoChoice, close_job
from core.clips import check_clips
from core.contracts import AudioAnalysis, ClipPrompt, CostReport, JobRequest, JobResult, ReferenceImage, VideoPlan
from core.errors import AudioError, CompositionError, PipelineError, ProviderError, StorageError, StoryboardError
from core.media import probe
from core.prompts import with_references
from core.settings import Quality, get_settings
from core.storyboard import STORYBOARD_RECORD, Storyboard, check, direct, new_storyboard, plan_of
from core.timeline import TIMELINE_RECORD, Aspect, Timeline, build_timeline
from flows.artifacts import publish_analysis, publish_result
from flows.review import await_review
from flows.stage_run import Files, JobRun, run_count
from providers.storage import get_storage
from tasks.audio_parser import parse_audio
from tasks.common import configured, local_file, put_json, report
from tasks.composer import caption_plan, compose_video
from tasks.guard import check_budget
from tasks.prompt_generator import template_prompt, write_prompt
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
    aspect: Aspect = "16:9",
    lyrics: str | None = None,
    captions: str | None = None,
    quality: Quality | None = None,
    review: bool = False,
    storyboard: dict[str, Any] | None = None,
) -> JobResult:
    """Render a beat-synchronised music video of the song at ``audio_uri`` from a creative prompt.

    Parameters
    ----------
    audio_uri : ``file://`` URI (or path) of an MP3/WAV/OGG/FLAC/M4A song.
    prompt : what the video should show.
    style, mood : optional steering ("watercolor", "melancholic").
    duration_hint : preferred clip length in seconds (3-7); boundaries stay on beats.
    lyrics : the song's lyrics (plain text, one line per lyric line, or LRC), aligned to the vocals.
    captions : ``none``, ``soft`` (default: a subtitle track and .srt/.vtt sidecars, when there are words) or
        ``karaoke`` (word-highlighted captions burned into the frames as well).
    job_id : identifies the job's files and events; the flow run's id when omitted, so a retry of the run keeps
        writing to the same job.
    allow_partial : True (PRD): compose from the clips that succeeded (at least 2). False: fail the run when any
        clip failed, after every other clip is done, so a retry (Prefect UI, ``prefect flow-run retry``)
        regenerates just those clips.
    aspect : output format, ``16:9`` (1920x1080), ``9:16`` (1080x1920) or ``1:1`` (1080x1080). The analysis, plan
        and reference do not depend on it: a second format of the same song and prompt reuses them from the cache.
    quality : ``draft`` | ``standard`` | ``high`` (x264 preset and CRF, ``core.settings.QUALITY``); unset:
        ``VIDEOGEN_RENDER__QUALITY`` (``standard``).
    review : director mode: after the prompts, store the storyboard (``intermediate/storyboard.json``), report
        ``awaiting_review`` and suspend the run (no worker slot held) until it is resumed with a
        :class:`flows.review.StoryboardInput` (the API's approve, or the Prefect UI); then render the storyboard.
    storyboard : a director's storyboard (``core.storyboard.Storyboard`` as JSON) to render instead of the plan's.
    """
    job_id = job_id or str(flow_run.get_id() or uuid.uuid4())
    request = JobRequest(audio_uri=audio_uri, prompt=prompt, style=style, mood=mood, duration_hint=duration_hint,
                         aspect=aspect, lyrics=lyrics, captions=captions, quality=quality)  # fmt: skip
    try:
        return _render(job_id, request, allow_partial=allow_partial, review=review, storyboard=storyboard)
    finally:
        close_job(job_id)  # this process's handle on the spend ledger; the ledger itself outlives a retry


def _render(
    job_id: str,
    request: JobRequest,
    *,
    allow_partial: bool = True,
    review: bool = False,
    storyboard: dict[str, Any] | None = None,
) -> JobResult:
    job = JobRun(job_id)
    keys = job.keys
    request, analysis, plan, video = _plan(job, request)
    audio_uri = request.audio_uri
    generate, compose = configured(generate_clip), configured(compose_video)
    board = _edited(job, storyboard, analysis) if storyboard is not None else None
    plan, timeline, reference, prompts = _prepare(job, request, analysis, plan, board)
    if review and board is None:  # director mode: stop before any clip is paid for
        board = _new_storyboard(job, request, analysis, plan, prompts, video)
        board = _edited(job, await_review(job_id, board).model_dump(mode="json"), analysis)
        job.redo("reference", "prompts")
        plan, timeline, reference, prompts = _prepare(job, request, analysis, plan, board)
    n = len(prompts)
    render = get_settings().render.at(request.quality)
    captions, ass = caption_plan(request, analysis.lyrics, plan.style.palette, timeline)
    specs = [replace(timeline.conform_spec(i), subtitles=ass) for i in range(n)]
    clips = job.stage("video", lambda i, fresh: generate.with_options(refresh_cache=fresh).submit(
        job_id, prompts[i], timeline.slot(i), n, video, specs[i], render=render), items=n,
        files=Files(lambda i: keys.clip(i, ".mp4")),
        on_failure=lambda i, exc, fut: _failed(job_id, timeline.slot(i), exc, run_count(fut)))  # fmt: skip
    try:
        failed = check_clips(clips, allow_partial=allow_partial)
    except PipelineError as exc:
        raise job.fail("video", exc) from None
    (composition,) = job.stage(
        "compose",
        lambda i, fresh: compose.with_options(refresh_cache=fresh).submit(
            job_id, audio_uri, analysis, timeline, clips, captions, ass, render=render
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
    if board is not None:
        put_json(keys.intermediate(STORYBOARD_RECORD), board)
    publish_result(result)
    note = f"; clips {failed} failed and were covered by neighbours" if failed else ""
    report(job_id, "job", "complete", 100, f"Video ready: {composition.duration:.2f} s{note}", cost=result.cost.total)
    return result


def _plan(job: JobRun, request: JobRequest) -> tuple[JobRequest, AudioAnalysis, VideoPlan, VideoChoice | None]:
    """The song adopted, the job priced, analysed and planned."""
    job_id = job.job_id
    report(job_id, "job", "running", 0, "Job started")
    audio_uri = _adopt_song(job, request.audio_uri)
    request = request.model_copy(update={"audio_uri": audio_uri})
    put_json(job.keys.input("request.json"), request, "input")
    # Paid providers: priced before any call; may pick a cheaper video configuration or refuse (BudgetError).
    estimate = check_budget(job_id, audio_uri, request.duration_hint)
    video = estimate.video if estimate else None
    hint = estimate.duration_hint if estimate and estimate.duration_hint else request.duration_hint
    parse, plan_ = configured(parse_audio), configured(plan_scenes)
    (analysis,) = job.stage("audio", lambda i, fresh: parse.with_options(refresh_cache=fresh).submit(
        job_id, audio_uri, hint, request.lyrics), adapt=lambda a: a.model_copy(update={"source": audio_uri}),
        cost=lambda a: a.lyrics.cost)  # fmt: skip
    publish_analysis(job_id, analysis)
    (plan,) = job.stage("plan", lambda i, fresh: plan_.submit(job_id, request, analysis))
    return request, analysis, plan, video


def _new_storyboard(
    job: JobRun,
    request: JobRequest,
    analysis: AudioAnalysis,
    plan: VideoPlan,
    prompts: list[ClipPrompt],
    video: VideoChoice | None,
) -> Storyboard:
    return new_storyboard(job.job_id, request, audio_sha256=analysis.sha256, duration=analysis.duration,
                          beats=analysis.beats, plan=plan, boundaries=analysis.boundaries, prompts=prompts,
                          settings=get_settings(), video=video)  # fmt: skip


@flow(name="music-video-storyboard", task_runner=ConfiguredTaskRunner(), log_prints=True)  # type: ignore[arg-type]
def plan_storyboard(
    audio_uri: str,
    prompt: str,
    style: str | None = None,
    mood: str | None = None,
    duration_hint: float | None = None,
    job_id: str | None = None,
    aspect: Aspect = "16:9",
    lyrics: str | None = None,
) -> Storyboard:
    """Director mode without waiting (the CLI's ``render --review``): analyse, plan, paint the reference and write
    the prompts, then store and return the storyboard with its estimate. No clip is generated; render the
    (edited) storyboard with ``music_video(storyboard=...)``."""
    job_id = job_id or str(flow_run.get_id() or uuid.uuid4())
    request = JobRequest(audio_uri=audio_uri, prompt=prompt, style=style, mood=mood, duration_hint=duration_hint,
                         aspect=aspect, lyrics=lyrics)  # fmt: skip
    try:
        job = JobRun(job_id)
        request, analysis, plan, video = _plan(job, request)
        plan, _, _, prompts = _prepare(job, request, analysis, plan, None)
        board = _new_storyboard(job, request, analysis, plan, prompts, video)
        put_json(job.keys.intermediate(STORYBOARD_RECORD), board)
        total = board.estimate.total if board.estimate else 0.0
        report(job_id, "job", "awaiting_review", job.done, f"Storyboard ready: {len(board.clips)} clips, "
               f"estimate ${total:.2f}", cost=job.total)  # fmt: skip
        return board
    finally:
        close_job(job_id)


def _prepare(
    job: JobRun, request: JobRequest, analysis: AudioAnalysis, plan: VideoPlan, board: Storyboard | None
) -> tuple[VideoPlan, Timeline, ReferenceImage, list[ClipPrompt]]:
    """Timeline, style reference and prompts of the plan, or of the storyboard a director edited."""
    job_id, keys = job.job_id, job.keys
    boundaries = analysis.boundaries
    if board is not None:
        plan, boundaries = plan_of(board), board.boundaries()
        put_json(keys.stage("plan"), plan)
    audio_info = probe(local_file(analysis.source), error=AudioError)
    timeline = build_timeline(boundaries, plan.transitions, beats=analysis.beats,
                              audio_duration=audio_info.audio_duration or audio_info.duration,
                              fps=get_settings().render.fps, fade_in=plan.fade_in, fade_out=plan.fade_out,
                              aspect=request.aspect, render=get_settings().render)  # fmt: skip
    put_json(keys.intermediate(TIMELINE_RECORD), timeline)
    paint, write = configured(generate_reference), configured(write_prompt)
    (reference,) = job.stage("reference", lambda i, fresh: paint.with_options(refresh_cache=fresh).submit(
        job_id, plan), files=Files(lambda i: keys.intermediate("reference.png")),
        on_failure=lambda i, exc, fut: _text_only(job_id, plan, exc))  # fmt: skip

    def adapt(p: ClipPrompt) -> ClipPrompt:  # prompts cached from another job name its copies of the images
        p = with_references(p, plan.clips[p.index], reference)
        return direct(p, board.clips[p.index], plan) if board is not None else p

    prompts = job.stage("prompts", lambda i, fresh: write.submit(job_id, plan.clips[i], plan, reference, analysis,
                        request.aspect), items=len(plan.clips), adapt=adapt,
                        on_failure=lambda i, exc, fut: _template_prompt(job_id, plan, i, reference, request.aspect,
                                                                        exc))  # fmt: skip
    return plan, timeline, reference, prompts


def _edited(job: JobRun, storyboard: dict[str, Any], analysis: AudioAnalysis) -> Storyboard:
    """A director's storyboard, checked against this song's beats and the clip limits (a bad one fails the job)."""
    try:
        board = Storyboard.model_validate(storyboard)
        if board.audio_sha256 != analysis.sha256:
            raise StoryboardError("audio_sha256", "the storyboard was made for another song")
        return check(board.model_copy(update={"job_id": job.job_id, "beats": analysis.beats}), get_settings())
    except ValidationError as exc:
        first = exc.errors()[0]
        raise job.fail("plan", StoryboardError(".".join(map(str, first["loc"])), first["msg"])) from None
    except StoryboardError as exc:
        raise job.fail("plan", exc) from None


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


def _template_prompt(job_id: str, plan: Any, index: int, reference: Any, aspect: Any, exc: BaseException) -> Any:
    """The prompt writer failed after every retry (e.g. rate limits): the clip gets the template prompt, free and
    offline, as the reference stage goes text-only; the paid stages already run are not thrown away."""
    if not isinstance(exc, ProviderError):
        raise exc
    report(job_id, "prompts", "failed", 100, f"Prompt {index + 1}: the writer failed ({exc}), using the template",
           clip_index=index, clip_count=len(plan.clips))  # fmt: skip
    return template_prompt(plan, plan.clips[index], reference, aspect)


def _failed(job_id: str, slot: Any, exc: BaseException, attempts: int) -> Any:
    clip = failed_clip(slot, exc, attempts=attempts)
    report(job_id, "video", "failed", 100, f"Clip {slot.index + 1} failed: {clip.error}", clip_index=slot.index)
    return clip


def _input_name(uri: str) -> str:
    """``audio.<ext>`` whatever the upload was called (the extension tells ffmpeg and the API the format)."""
    suffix = PurePosixPath(urlparse(uri).path).suffix.lower()
    return f"audio{suffix}" if suffix else "audio"
