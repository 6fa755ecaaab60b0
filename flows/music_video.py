"""The parent flow: song + prompt -> JobResult. Wiring only; every stage is a task in ``tasks/``.

    audio_parser -> scene_planner -> reference_generator -> prompt_generator[i] -> video_generator[i] -> composer

Only serialisable parameters go in (so deployments and the API can start it), the JobResult contract comes out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlparse
from uuid import UUID

from prefect import Task, flow, unmapped
from prefect.artifacts import (
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.client.orchestration import get_client
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from core.budget import close_job
from core.compose import conform_specs
from core.contracts import (
    STAGE_TITLES,
    STAGE_WEIGHTS,
    ClipPrompt,
    ClipResult,
    CompositionResult,
    CostReport,
    JobRequest,
    JobResult,
    ReferenceImage,
    Stage,
    StageCost,
)
from core.errors import AudioError, ClipsFailedError, CompositionError, PipelineError, StorageError
from core.media import probe
from core.settings import get_settings
from core.storage import Kind
from flows.artifacts import publish_analysis, publish_result
from providers.storage import get_storage
from tasks.audio_parser import parse_audio as _parse_audio
from tasks.common import job_keys, local_file, put_json, report
from tasks.composer import compose_video as _compose_video
from tasks.guard import check_budget
from tasks.prompt_generator import write_prompt as _write_prompt
from tasks.reference_generator import generate_reference as _generate_reference
from tasks.reference_generator import no_reference
from tasks.results import result_storage_options
from tasks.scene_planner import plan_scenes as _plan_scenes
from tasks.video_generator import failed_clip
from tasks.video_generator import generate_clip as _generate_clip

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


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


def _is_cached(future: PrefectFuture[Any]) -> bool:
    return future.state.name == "Cached"


class _Job:
    """Book-keeping of one run: stage timings, costs, cache hits, job progress."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.stages: list[StageCost] = []
        self.done = 0.0
        self.progress_id = cast(UUID, create_progress_artifact(progress=0.0, description=f"VideoGen job {job_id}"))

    def run(self, stage: Stage, fn: Callable[[], tuple[T, list[PrefectFuture[Any]]]], cost: Callable[[T], float]) -> T:
        started = time.perf_counter()
        try:
            value, futures = fn()
        except PipelineError as exc:
            report(self.job_id, stage, "failed", 100, str(exc))
            report(self.job_id, "job", "error", self.done, f"{STAGE_TITLES[stage]} failed: {exc}")
            raise
        cached = bool(futures) and all(_is_cached(f) for f in futures)
        stage_cost = StageCost(
            stage=stage,
            cost=0.0 if cached else cost(value),
            calls=0 if cached else sum(not _is_cached(f) for f in futures),
            cached=cached,
            seconds=round(time.perf_counter() - started, 3),
        )
        self.stages.append(stage_cost)
        self.done += STAGE_WEIGHTS[stage]
        self._publish(stage, value)
        if cached:
            report(self.job_id, stage, "cached", 100, f"{STAGE_TITLES[stage]}: reused cached result")
        elif len(futures) > 1:  # per-clip stages: the tasks report clips, the flow reports the stage
            report(self.job_id, stage, "completed", 100, f"{STAGE_TITLES[stage]}: {len(futures)} clips",
                   cost=stage_cost.cost)  # fmt: skip
        report(self.job_id, "job", "running", self.done, f"{STAGE_TITLES[stage]} done", cost=self.total)
        if self.progress_id is not None:
            update_progress_artifact(artifact_id=self.progress_id, progress=self.done)
        return value

    def _publish(self, stage: Stage, value: Any) -> None:
        """Stage outputs as JSON in the job's storage (the API's analysis/plan/prompts/clips views); a stage that
        was cached from another job gets its own copy of the record here."""
        keys = job_keys(self.job_id)
        if stage == "video":
            for clip in value:
                put_json(keys.clip(clip.index, ".json"), clip)
        elif stage != "compose":
            put_json(keys.stage(stage), value)

    @property
    def total(self) -> float:
        return sum(s.cost for s in self.stages)


def _single(future: PrefectFuture[T]) -> tuple[T, list[PrefectFuture[Any]]]:
    return future.result(), [future]


@flow(name="music-video", task_runner=clip_task_runner(), log_prints=True)
def music_video(
    audio_uri: str,
    prompt: str,
    style: str | None = None,
    mood: str | None = None,
    duration_hint: float | None = None,
    job_id: str | None = None,
    allow_partial: bool = True,
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
    """
    job_id = job_id or str(flow_run.get_id() or uuid.uuid4())
    request = JobRequest(audio_uri=audio_uri, prompt=prompt, style=style, mood=mood, duration_hint=duration_hint)
    try:
        return _render(job_id, request, allow_partial=allow_partial)
    finally:
        close_job(job_id)  # the spend ledger lives as long as the run, success or not


def _render(job_id: str, request: JobRequest, *, allow_partial: bool = True) -> JobResult:
    keys = job_keys(job_id)
    storage = get_storage()
    job = _Job(job_id)
    report(job_id, "job", "running", 0, "Job started")
    # The song into the job's storage (jobs/{id}/input/), where every worker finds it; a no-op for API uploads.
    try:
        audio_uri = storage.adopt(request.audio_uri, keys.input(_input_name(request.audio_uri)), "input")
    except (OSError, ValueError, StorageError) as exc:
        error = AudioError(f"cannot read the song at {request.audio_uri}: {exc}")
        report(job_id, "audio", "failed", 100, str(error))
        report(job_id, "job", "error", 0, f"{STAGE_TITLES['audio']} failed: {error}")
        raise error from exc
    duration_hint = request.duration_hint
    request = request.model_copy(update={"audio_uri": audio_uri})
    put_json(keys.input("request.json"), request, "input")
    # Task results (cache records) where any worker can read them: the S3 bucket when storage is S3.
    stored = result_storage_options()
    parse_audio = _stored(_parse_audio, stored)
    plan_scenes = _stored(_plan_scenes, stored)
    generate_reference = _stored(_generate_reference, stored)
    write_prompt = _stored(_write_prompt, stored)
    generate_clip = _stored(_generate_clip, stored)
    compose_video = _stored(_compose_video, stored)
    # Paid providers: priced before any call; may pick a cheaper video configuration or refuse (BudgetError).
    estimate = check_budget(job_id, audio_uri, duration_hint)
    video = estimate.video if estimate else None
    if estimate and estimate.duration_hint:
        duration_hint = estimate.duration_hint  # the budget chose fewer, longer clips

    analysis = job.run(
        "audio",
        lambda: _single(parse_audio.submit(job_id, audio_uri, duration_hint)),
        lambda a: a.lyrics.cost,
    )
    analysis = analysis.model_copy(update={"source": audio_uri})  # cached analysis may name an older copy
    publish_analysis(job_id, analysis)
    plan = job.run("plan", lambda: _single(plan_scenes.submit(job_id, request, analysis)), lambda p: p.cost)

    def reference_stage() -> tuple[Any, list[PrefectFuture[Any]]]:
        fut = generate_reference.submit(job_id, plan)
        wait([fut])
        if fut.state.is_completed() and _missing(fut.result().uri):
            fut = generate_reference.with_options(refresh_cache=True).submit(job_id, plan)
            wait([fut])
        if fut.state.is_completed():
            return _own(fut.result(), keys.intermediate("reference.png")), [fut]
        error = str(fut.result(raise_on_failure=False))
        report(job_id, "reference", "failed", 100, f"No style reference, continuing text-only: {error}")
        return no_reference(plan, error), [fut]

    reference = job.run("reference", reference_stage, lambda r: r.cost)

    prompt_futures = write_prompt.map(
        job_id=unmapped(job_id),
        clip=plan.clips,
        plan=unmapped(plan),
        reference=unmapped(reference),
        analysis=unmapped(analysis),
    )

    def prompts_stage() -> tuple[list[ClipPrompt], list[PrefectFuture[Any]]]:
        # prompts cached from another job name its copy of the same image: point them at this job's
        written = prompt_futures.result()
        own = [p.model_copy(update={"reference_uri": reference.uri}) if p.reference_uri else p for p in written]
        return own, list(prompt_futures)

    prompts = job.run("prompts", prompts_stage, lambda ps: sum(p.cost for p in ps))

    def video_stage() -> tuple[list[ClipResult], list[PrefectFuture[Any]]]:
        # Each clip's 1080p layout is known now, so its task encodes it for the composer as soon as it arrives.
        audio_info = probe(local_file(audio_uri))
        specs = conform_specs(
            analysis.boundaries, plan.transitions, audio_duration=audio_info.audio_duration or audio_info.duration,
            render=get_settings().render, fade_in=plan.fade_in, fade_out=plan.fade_out,
        )  # fmt: skip
        futures = list(
            generate_clip.map(
                job_id=unmapped(job_id),
                prompt=prompts,
                total=unmapped(len(prompts)),
                video=unmapped(video),
                conform=[specs.get(p.index) for p in prompts],
            )  # fmt: skip
        )
        wait(futures)
        regenerate = generate_clip.with_options(refresh_cache=True)
        for i, fut in enumerate(futures):
            if fut.state.is_completed() and _missing(fut.result().uri):  # cache record outlived its file
                futures[i] = regenerate.submit(job_id, prompts[i], len(prompts), video, specs.get(prompts[i].index))
        wait(futures)
        clips = []
        for p, fut in zip(prompts, futures, strict=True):
            if fut.state.is_completed():
                clips.append(_own(fut.result(), keys.clip(p.index, ".mp4")))
                continue
            error = fut.result(raise_on_failure=False)
            clip = failed_clip(
                p, error if isinstance(error, BaseException) else RuntimeError(str(error)), attempts=_run_count(fut)
            )
            report(job_id, "video", "failed", 100, f"Clip {p.index + 1} failed: {clip.error}", clip_index=p.index)
            clips.append(clip)
        ok = sum(c.status == "succeeded" for c in clips)
        failed = [c.index for c in clips if c.status == "failed"]
        if failed and not allow_partial:
            raise ClipsFailedError(
                f"clips {failed} failed and this run does not accept a partial video; retry the run to regenerate "
                "just those clips"
            )
        if ok < 2:
            raise CompositionError(f"only {ok} of {len(clips)} clips were generated; at least 2 are needed")
        return clips, list(futures)

    clips = job.run("video", video_stage, lambda cs: sum(c.cost for c in cs))

    def compose_stage() -> tuple[CompositionResult, list[PrefectFuture[Any]]]:
        fut = compose_video.submit(job_id, audio_uri, analysis, plan, clips)
        if _missing(fut.result().uri):
            fut = compose_video.with_options(refresh_cache=True).submit(job_id, audio_uri, analysis, plan, clips)
        return _own(fut.result(), keys.final("final.mp4"), "final"), [fut]

    composition = job.run("compose", compose_stage, lambda _: 0.0)
    result = JobResult(
        job_id=job_id,
        request=request,
        audio=analysis,
        plan=plan,
        reference=reference,
        prompts=prompts,
        clips=clips,
        composition=composition,
        cost=CostReport.from_stages(job.stages),
        stages=job.stages,
        output_uri=composition.uri,
    )
    put_json(keys.final("result.json"), result, "final")
    publish_result(result)
    failed = [c.index for c in clips if c.status == "failed"]
    note = f"; clips {failed} failed and were covered by neighbours" if failed else ""
    report(job_id, "job", "complete", 100, f"Video ready: {composition.duration:.2f} s{note}", cost=result.cost.total)
    return result


M = TypeVar("M", ReferenceImage, ClipResult, CompositionResult)


def _own(output: M, key: str, kind: Kind = "intermediate") -> M:
    """A stage output cached from another job names that job's file: copy it to this job's key (a hard link
    locally, a server-side copy on S3), so each job's folder is complete and outlives the other job's."""
    if output.uri is None:
        return output
    return output.model_copy(update={"uri": get_storage().adopt(output.uri, key, kind)})


def _stored(task: Task[P, R], options: dict[str, Any]) -> Task[P, R]:
    return task.with_options(**options) if options else task


def _missing(uri: str | None) -> bool:
    """A cached result whose file is gone (``rm -rf data``, or expired by the bucket's lifecycle) is produced
    again."""
    return uri is not None and not get_storage().has(uri)


def _input_name(uri: str) -> str:
    """``audio.<ext>`` whatever the upload was called (the extension tells ffmpeg and the API the format)."""
    suffix = PurePosixPath(urlparse(uri).path).suffix.lower()
    return f"audio{suffix}" if suffix else "audio"


def _run_count(future: PrefectFuture[Any]) -> int:
    """How many times Prefect ran the task (1 + retries used)."""
    with get_client(sync_client=True) as client:
        return max(1, client.read_task_run(future.task_run_id).run_count)
