"""Director mode after a render: regenerate one clip as variants, choose a version, recompose.

    regenerate_clip   K variants of clip N (new prompt and/or seed), each a separate generation stored as
                      ``jobs/{id}/intermediate/clips/{n}/v{k}.mp4``; nothing else runs; the cost is the job's
    choose_version    version K becomes clip N; only the compose stage runs again; result.json and final.mp4 follow

Both report progress like the render (the job is ``processing`` while they run, ``complete`` after, with its true
total cost) and read the job from its storage (``final/result.json``), so the CLI and the API share them.
"""

from __future__ import annotations

from dataclasses import replace

from prefect import flow
from prefect.futures import wait

from core import budget
from core.contracts import ClipResult, CostReport, JobResult, StageCost
from core.errors import StoryboardError
from core.hashing import sha256_file
from core.settings import get_settings
from core.storage import JobKeys
from core.storyboard import ClipVersion, ClipVersions, Storyboard, check_regenerate
from flows.music_video import ConfiguredTaskRunner
from flows.review import stored_storyboard
from flows.stage_run import Files, JobRun
from providers.storage import get_storage
from tasks.common import configured, local_file, log, put_json, report
from tasks.composer import caption_plan, compose_video
from tasks.guard import paid_providers
from tasks.video_generator import generate_clip


def load_result(job_id: str) -> JobResult:
    storage, key = get_storage(), JobKeys(job_id).final("result.json")
    if not storage.exists(key):
        raise StoryboardError("job", f"job {job_id} has no finished render to direct")
    return JobResult.model_validate_json(storage.local(storage.uri(key)).read_bytes())


def load_versions(job_id: str, result: JobResult, clip: int) -> ClipVersions:
    """Clip ``clip``'s versions; the first call records the render's clip as version 0."""
    storage, keys = get_storage(), JobKeys(job_id)
    key = keys.clip_versions(clip)
    if storage.exists(key):
        return ClipVersions.model_validate_json(storage.local(storage.uri(key)).read_bytes())
    versions = ClipVersions(index=clip)
    current = result.clips[clip]
    if current.status == "succeeded" and current.uri:
        path = local_file(current.uri)
        uri = storage.put_file(keys.clip_version(clip, 0), path, "intermediate")
        prompt = result.prompts[clip]
        first = ClipVersion(version=0, clip=current.model_copy(update={"uri": uri}), prompt=prompt.prompt,
                            seed=prompt.seed, sha256=sha256_file(path))  # fmt: skip
        versions.versions.append(first)
    return versions


@flow(name="director-regenerate", task_runner=ConfiguredTaskRunner(), log_prints=True)  # type: ignore[arg-type]
def regenerate_clip(
    job_id: str, clip: int, prompt: str | None = None, seed: int | None = None, variants: int = 1
) -> ClipVersions:
    """Generate ``variants`` new versions of clip ``clip`` of a rendered job (seeds ``seed``, ``seed + 1``, ...;
    without a seed, seeds no version used yet). Refused before anything is spent: an unknown clip, too many
    variants, a locked clip, a job without a finished render, or variants that would pass the hard cap."""
    settings = get_settings()
    result = load_result(job_id)
    board = stored_storyboard(job_id)
    locked = bool(board and clip < len(board.clips) and board.clips[clip].locked)
    check_regenerate(len(result.clips), clip, variants, settings, locked=locked)
    if prompt is not None and not prompt.strip():
        raise StoryboardError("prompt", "the prompt must not be empty")
    versions = load_versions(job_id, result, clip)
    slot, n = result.timeline.slot(clip), len(result.clips)
    video = budget.configured_video(settings)
    spent = result.cost.total
    per_variant = sum(
        line.cost
        for line in budget.estimate(slot.duration, settings, video=video, slots=[slot.duration]).lines
        if line.stage == "video"
    )
    if paid_providers(settings):
        plan_budget, cap = budget.budget_for(result.audio.duration, settings)
        warning = budget.check_extra(spent, per_variant * variants, plan_budget, cap, f"{variants} variant(s)")
        if warning:
            log.warning(warning)
            report(job_id, "video", "running", 0, f"Warning: {warning}", clip_index=clip, clip_count=n)
        budget.open_job(job_id, cap)  # each call still reserves against the cap (spent so far carried over)
    base = result.prompts[clip].model_copy(update={"prompt": prompt} if prompt else {})
    first = versions.next_version()
    used = {v.seed for v in versions.versions}
    seeds = [seed + k for k in range(variants)] if seed is not None else _fresh_seeds(base.seed, used, variants)
    report(job_id, "job", "running", 90, f"Regenerating clip {clip + 1} as {variants} variant(s)")
    generate = configured(generate_clip)
    _, ass = caption_plan(result.request, result.audio.lyrics, result.plan.style.palette, result.timeline)
    spec = replace(result.timeline.conform_spec(clip), subtitles=ass)  # conformed as the job's clips were
    render = get_settings().render.at(result.request.quality)
    prompts = [base.model_copy(update={"seed": s}) for s in seeds]
    futures = [
        generate.submit(job_id, p, slot, n, video, spec, first + k, render=render) for k, p in enumerate(prompts)
    ]
    wait(futures)
    made: list[ClipVersion] = []
    extra = 0.0  # what the new generations cost (a cached one cost nothing now)
    for k, fut in enumerate(futures):
        out = fut.result(raise_on_failure=False)
        if not fut.state.is_completed() or not isinstance(out, ClipResult) or out.uri is None:
            report(job_id, "video", "failed", 100, f"Clip {clip + 1} variant {first + k} failed: {out}",
                   clip_index=clip, clip_count=n)  # fmt: skip
            continue
        # a cached generation names the file of its first run: this version gets its own copy
        out = out.model_copy(update={"uri": get_storage().adopt(out.uri, JobKeys(job_id).clip_version(clip, first + k),
                                                                "intermediate")})  # fmt: skip
        made.append(ClipVersion(version=first + k, clip=out, prompt=prompts[k].prompt, seed=prompts[k].seed,
                                sha256=sha256_file(local_file(out.uri or ""))))  # fmt: skip
        extra += 0.0 if fut.state.name == "Cached" else out.cost
    versions = versions.model_copy(update={"versions": [*versions.versions, *made]})
    put_json(JobKeys(job_id).clip_versions(clip), versions)
    result = _charged(result, extra)
    put_json(JobKeys(job_id).final("result.json"), result, "final")
    report(job_id, "video", "completed", 100, f"Clip {clip + 1}: {len(made)} new version(s)",
           cost=result.cost.by_stage.get("video", 0.0))  # fmt: skip
    report(job_id, "job", "complete", 100, f"Clip {clip + 1}: versions {[v.version for v in made]} ready to choose",
           cost=result.cost.total)  # fmt: skip
    if not made:
        raise StoryboardError("clip", f"every variant of clip {clip} failed")
    return versions


def _fresh_seeds(base: int, used: set[int], count: int) -> list[int]:
    out: list[int] = []
    candidate = base
    while len(out) < count:
        candidate = (candidate + 7919) % (2**31)
        if candidate not in used:
            out.append(candidate)
    return out


def _charged(result: JobResult, extra: float) -> JobResult:
    """The job's result with ``extra`` USD more spent on its video stage (variants cost, chosen or not)."""
    if extra <= 0:
        return result
    stages = [s.model_copy(update={"cost": s.cost + extra}) if s.stage == "video" else s for s in result.stages]
    return result.model_copy(update={"stages": stages, "cost": CostReport.from_stages(stages)})


@flow(name="director-choose", task_runner=ConfiguredTaskRunner(), log_prints=True)  # type: ignore[arg-type]
def choose_version(job_id: str, clip: int, version: int) -> JobResult:
    """Put version ``version`` of clip ``clip`` in the video and recompose; nothing is generated."""
    result = load_result(job_id)
    if not 0 <= clip < len(result.clips):
        raise StoryboardError("clip", f"no clip {clip}: the video has clips 0-{len(result.clips) - 1}")
    chosen = load_versions(job_id, result, clip).get(version)
    job = JobRun(job_id)
    keys, storage = job.keys, get_storage()
    report(job_id, "job", "running", 90, f"Using version {version} of clip {clip + 1}; recomposing")
    uri = storage.put_file(keys.clip(clip, ".mp4"), local_file(chosen.clip.uri or ""), "intermediate")
    new_clip = chosen.clip.model_copy(update={"uri": uri})
    put_json(keys.clip(clip, ".json"), new_clip)
    clips = [new_clip if c.index == clip else c for c in result.clips]
    prompts = [p.model_copy(update={"prompt": chosen.prompt, "seed": chosen.seed}) if p.index == clip else p
               for p in result.prompts]  # fmt: skip
    compose = configured(compose_video)
    captions, ass = caption_plan(result.request, result.audio.lyrics, result.plan.style.palette, result.timeline)
    render = get_settings().render.at(result.request.quality)
    (composition,) = job.stage("compose", lambda i, fresh: compose.with_options(refresh_cache=fresh).submit(
        job_id, result.request.audio_uri, result.audio, result.timeline, clips, captions, ass, render=render),
        files=Files(lambda i: keys.final("final.mp4"), "final"))  # fmt: skip
    compose_stage = job.stages[-1]
    stages: list[StageCost] = [compose_stage if s.stage == "compose" else s for s in result.stages]
    result = result.model_copy(update={"clips": clips, "prompts": prompts, "composition": composition,
                                       "stages": stages, "cost": CostReport.from_stages(stages),
                                       "output_uri": composition.uri})  # fmt: skip
    put_json(keys.final("result.json"), result, "final")
    versions = load_versions(job_id, result, clip).model_copy(update={"chosen": version})
    put_json(keys.clip_versions(clip), versions)
    board = stored_storyboard(job_id)
    if board is not None and clip < len(board.clips):
        put_json(keys.intermediate("storyboard.json"), _with_version(board, clip, version))
    report(job_id, "job", "complete", 100, f"Video ready with clip {clip + 1} version {version}",
           cost=result.cost.total)  # fmt: skip
    return result


def _with_version(board: Storyboard, clip: int, version: int) -> Storyboard:
    clips = [c.model_copy(update={"version": version}) if k == clip else c for k, c in enumerate(board.clips)]
    return board.model_copy(update={"clips": clips})
