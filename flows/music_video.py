"""The parent flow: song + prompt -> JobResult. Wiring only; every stage is a task in ``tasks/``.

    audio_parser -> scene_planner -> reference_generator -> prompt_generator[i] -> video_generator[i] -> composer

Only serialisable parameters go in (so deployments and the API can start it), the JobResult contract comes out.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect import flow, unmapped
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.client.orchestration import get_client
from prefect.futures import PrefectFuture, wait
from prefect.task_runners import ThreadPoolTaskRunner

from core.budget import close_job
from core.compose import conform_specs
from core.contracts import (
    STAGE_TITLES,
    STAGE_WEIGHTS,
    ClipResult,
    CostReport,
    JobRequest,
    JobResult,
    Stage,
    StageCost,
    VideoPlan,
)
from core.errors import CompositionError, PipelineError
from core.media import probe
from core.settings import get_settings
from core.uris import to_path, to_uri
from tasks.audio_parser import parse_audio
from tasks.common import job_dir, report, write_job_file
from tasks.composer import compose_video
from tasks.guard import check_budget
from tasks.prompt_generator import write_prompt
from tasks.reference_generator import generate_reference, no_reference
from tasks.scene_planner import plan_scenes
from tasks.video_generator import failed_clip, generate_clip

T = TypeVar("T")


def clip_task_runner() -> ThreadPoolTaskRunner:  # type: ignore[type-arg]
    """Per-clip parallelism from settings (VIDEOGEN_CLIP_PARALLELISM); always bounded (prefect notes §3)."""
    return ThreadPoolTaskRunner(max_workers=get_settings().clip_parallelism)


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
        """Stage outputs as JSON in the job's folder (the API's analysis/plan/prompts/clips views)."""
        if stage == "video":
            for clip in value:
                write_job_file(self.job_id, f"clips/clip-{clip.index:03d}.json", clip)
        elif stage != "compose":
            write_job_file(self.job_id, f"stages/{stage}.json", value)

    @property
    def total(self) -> float:
        return sum(s.cost for s in self.stages)


def _single(future: PrefectFuture[T]) -> tuple[T, list[PrefectFuture[Any]]]:
    return future.result(), [future]


@flow(name="music-video", task_runner=clip_task_runner(), log_prints=True)  # type: ignore[arg-type]
def music_video(
    audio_uri: str,
    prompt: str,
    style: str | None = None,
    mood: str | None = None,
    duration_hint: float | None = None,
    job_id: str | None = None,
) -> JobResult:
    """Render a beat-synchronised music video of the song at ``audio_uri`` from a creative prompt.

    Parameters
    ----------
    audio_uri : ``file://`` URI (or path) of an MP3/WAV/OGG/FLAC/M4A song.
    prompt : what the video should show.
    style, mood : optional steering ("watercolor", "melancholic").
    duration_hint : preferred clip length in seconds (3-7); boundaries stay on beats.
    job_id : identifies the job's files and events; a new UUID when omitted.
    """
    job_id = job_id or str(uuid.uuid4())
    request = JobRequest(audio_uri=audio_uri, prompt=prompt, style=style, mood=mood, duration_hint=duration_hint)
    try:
        return _render(job_id, request)
    finally:
        close_job(job_id)  # the spend ledger lives as long as the run, success or not


def _render(job_id: str, request: JobRequest) -> JobResult:
    audio_uri, duration_hint = request.audio_uri, request.duration_hint
    job = _Job(job_id)
    report(job_id, "job", "running", 0, "Job started")
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
    plan = job.run("plan", lambda: _single(plan_scenes.submit(job_id, request, analysis)), lambda p: p.cost)

    def reference_stage() -> tuple[Any, list[PrefectFuture[Any]]]:
        fut = generate_reference.submit(job_id, plan)
        wait([fut])
        if fut.state.is_completed() and _missing(fut.result().uri):
            fut = generate_reference.with_options(refresh_cache=True).submit(job_id, plan)
            wait([fut])
        if fut.state.is_completed():
            return fut.result(), [fut]
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
    prompts = job.run(
        "prompts", lambda: (prompt_futures.result(), list(prompt_futures)), lambda ps: sum(p.cost for p in ps)
    )

    def video_stage() -> tuple[list[ClipResult], list[PrefectFuture[Any]]]:
        # Each clip's 1080p layout is known now, so its task encodes it for the composer as soon as it arrives.
        audio_info = probe(to_path(audio_uri))
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
                clips.append(fut.result())
                continue
            error = fut.result(raise_on_failure=False)
            clip = failed_clip(
                p, error if isinstance(error, BaseException) else RuntimeError(str(error)), attempts=_run_count(fut)
            )
            report(job_id, "video", "failed", 100, f"Clip {p.index + 1} failed: {clip.error}", clip_index=p.index)
            clips.append(clip)
        ok = sum(c.status == "succeeded" for c in clips)
        if ok < 2:
            raise CompositionError(f"only {ok} of {len(clips)} clips were generated; at least 2 are needed")
        return clips, list(futures)

    clips = job.run("video", video_stage, lambda cs: sum(c.cost for c in cs))

    def compose_stage() -> tuple[Any, list[PrefectFuture[Any]]]:
        fut = compose_video.submit(job_id, audio_uri, analysis, plan, clips)
        if _missing(fut.result().uri):
            fut = compose_video.with_options(refresh_cache=True).submit(job_id, audio_uri, analysis, plan, clips)
        return fut.result(), [fut]

    composition = job.run("compose", compose_stage, lambda _: 0.0)

    final_dir = job_dir(job_id) / "final"
    final_dir.mkdir(parents=True, exist_ok=True)
    final = final_dir / "final.mp4"
    _place(composition.uri, final)
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
        output_uri=to_uri(final),
    )
    write_job_file(job_id, "final/result.json", result)
    _publish_artifacts(result)
    failed = [c.index for c in clips if c.status == "failed"]
    note = f"; clips {failed} failed and were covered by neighbours" if failed else ""
    report(job_id, "job", "complete", 100, f"Video ready: {composition.duration:.2f} s{note}", cost=result.cost.total)
    return result


def _missing(uri: str | None) -> bool:
    """A cached result whose file was deleted (e.g. ``rm -rf data``) must be produced again."""
    return uri is not None and not to_path(uri).exists()


def _run_count(future: PrefectFuture[Any]) -> int:
    """How many times Prefect ran the task (1 + retries used)."""
    with get_client(sync_client=True) as client:
        return max(1, client.read_task_run(future.task_run_id).run_count)


def _place(src_uri: str, dest: Any) -> None:
    """Give the job its own name for the (content-addressed) final file: hard link, else copy."""
    src = to_path(src_uri)
    tmp = dest.with_suffix(".tmp.mp4")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    tmp.replace(dest)


def _plan_markdown(plan: VideoPlan) -> str:
    lines = [
        f"# Plan\n\n{plan.summary}\n",
        f"**Style**: {plan.style.visual_style}; **mood**: {plan.style.mood}; **lighting**: {plan.style.lighting}; "
        f"**palette**: {' '.join(f'`{c}`' for c in plan.style.palette)}\n",
        "| # | start | end | scene | camera | transition out | script |",
        "|---|---|---|---|---|---|---|",
    ]
    for clip in plan.clips:
        out = plan.transitions[clip.index].kind if clip.index < len(plan.transitions) else "end"
        lines.append(
            f"| {clip.index} | {clip.start:.2f} | {clip.end:.2f} | {clip.scene_id} | {clip.camera.movement} "
            f"| {out} | {clip.visual_description} |"
        )
    return "\n".join(lines)


def _publish_artifacts(result: JobResult) -> None:
    """What an operator sees in the Prefect UI: the plan, a cost table, the clips, the final video."""
    key = f"job-{result.job_id}".lower()
    create_markdown_artifact(key=f"{key}-plan", markdown=_plan_markdown(result.plan), description="video plan")
    create_table_artifact(
        key=f"{key}-cost",
        table=[
            {"stage": s.stage, "cost_usd": s.cost, "calls": s.calls, "cached": s.cached, "seconds": s.seconds}
            for s in result.stages
        ]
        + [{"stage": "total", "cost_usd": result.cost.total}],
        description="cost by stage",
    )
    create_table_artifact(
        key=f"{key}-clips",
        table=[
            {
                "clip": c.index,
                "status": c.status,
                "duration": c.duration,
                "target": c.target_duration,
                "cost_usd": c.cost,
                "attempts": c.attempts,
                "uri": c.uri or c.error,
            }
            for c in result.clips
        ],  # fmt: skip
        description="generated clips",
    )
    comp = result.composition
    create_markdown_artifact(
        key=f"{key}-video",
        markdown=(
            f"[final video]({result.output_uri}) — {comp.duration:.3f} s, {comp.width}×{comp.height} "
            f"@ {comp.fps:g} fps, drift {comp.sync_drift * 1000:.1f} ms, "
            f"{comp.clips_trimmed} trimmed, {comp.clips_looped} looped"
        ),
        description="final video",
    )
