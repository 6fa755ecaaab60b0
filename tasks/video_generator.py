"""PRD module 7 as a Prefect task, mapped over the clips: generate, validate, account."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext, get_run_context

from core.budget import VideoChoice
from core.compose import ConformTarget, conform_clip
from core.consistency import check_clip
from core.contracts import ClipConsistency, ClipPrompt, ClipResult, ClipValidation
from core.errors import CompositionError, ProviderError, TransientProviderError
from core.hashing import sha256_file
from core.media import probe
from core.settings import RenderSettings, get_settings
from core.storage import JobKeys
from core.timeline import ConformSpec, Slot
from core.uris import to_uri
from providers.base import VideoGenerator
from providers.registry import provider_of
from providers.storage import get_storage
from tasks.common import (
    cache_path,
    conform_cache,
    content_key,
    local_file,
    log,
    provider_call,
    put_json,
    report,
    run_cache_key,
    stage_task,
)

DURATION_TOLERANCE = 2.0  # PRD: accept clips within ±2 s of the target


def _generator(video: VideoChoice | None = None) -> VideoGenerator:
    """The configured video provider; ``video`` (model, resolution) when the budget guard chose one."""
    options = video.model_dump() if video is not None else {}
    return provider_of(VideoGenerator, **options)


def video_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    prompt: ClipPrompt = params["prompt"]
    slot: Slot = params["slot"]
    generator = _generator(params.get("video"))
    ref = prompt.reference_uri
    ref_hash = sha256_file(local_file(ref)) if ref and get_storage().has(ref) else None
    characters = {name: sha256_file(p) for name, p in _character_files(prompt).items()}
    target = _target(generator, slot, params.get("conform"), params.get("render"))
    return content_key(
        "video",
        prompt.model_dump(mode="json", exclude={"reference_uri", "character_uris"}),
        characters,
        slot.model_dump(mode="json", include={"duration", "beats"}),  # its length and pulse, not its place
        ref_hash,
        generator.cache_identity(),
        *([target.identity()] if target else []),  # rendered into its output frames: their layout and quality
    )


def _target(
    generator: VideoGenerator, slot: Slot, conform: ConformSpec | None, render: RenderSettings | None
) -> ConformTarget | None:
    """Where a model that draws its own frames renders them: the clip's conformed pieces (one encode)."""
    if conform is None or not generator.renders_conformed:
        return None
    return ConformTarget.of(conform, render or get_settings().render, conform_cache(), slot)


def _character_files(prompt: ClipPrompt) -> dict[str, Path]:
    """The clip's characters' reference images that still exist (a missing one: text + style reference)."""
    storage = get_storage()
    return {name: local_file(u) for name, u in prompt.character_uris.items() if storage.has(u)}


def validate_clip(result: ClipResult) -> ClipValidation:
    diff = result.duration - result.target_duration
    return ClipValidation(
        file_ok=result.uri is not None and result.duration > 0,
        duration_ok=abs(diff) <= DURATION_TOLERANCE,
        resolution_ok=result.width >= 256 and result.height >= 144,
        fps_ok=result.fps >= 8,
        duration_diff=round(diff, 3),
    )


def _attempt() -> int:
    ctx = get_run_context()
    return getattr(getattr(ctx, "task_run", None), "run_count", 1) or 1


@stage_task("video", cache_key_fn=video_key, run_name="-{prompt.index}")
def generate_clip(
    job_id: str,
    prompt: ClipPrompt,
    slot: Slot,
    total: int,
    video: VideoChoice | None = None,
    conform: ConformSpec | None = None,
    version: int | None = None,
    render: RenderSettings | None = None,
) -> ClipResult:
    """Generate the clip of ``slot``, validate it, and (given its ``conform`` layout) encode it for the composer
    right away, at the job's ``render`` quality (default: the settings'). ``version`` (director mode) stores it as
    that version of the clip, leaving the clip in use."""
    generator = _generator(video)
    params = {"prompt": prompt, "slot": slot, "video": video, "conform": conform, "render": render}
    key = run_cache_key(lambda: video_key(None, params))
    out = cache_path("clips", key, ".mp4")
    report(
        job_id,
        "video",
        "running",
        0,
        f"Generating clip {prompt.index + 1}/{total}",
        clip_index=prompt.index,
        clip_count=total,
    )
    started = time.perf_counter()
    ref = prompt.reference_uri
    reference = local_file(ref) if ref and get_storage().has(ref) else None  # expired: text-only, as the PRD says
    characters = _character_files(prompt) if generator.takes_references() else {}
    target = _target(generator, slot, conform, render)
    with provider_call(job_id, generator):
        clip = generator.generate_with_characters(prompt, slot=slot, reference=reference,
                                                  characters=list(characters.values()), out=out,
                                                  target=target)  # fmt: skip
    try:
        info = probe(clip.path)
    except CompositionError as exc:  # a broken file from the model: another attempt may do better
        raise TransientProviderError(str(exc), provider=generator.provider_id, stage="video") from exc
    result = ClipResult(
        index=prompt.index,
        status="succeeded",
        uri=to_uri(clip.path),
        provider=generator.provider_id,
        model=generator.model,
        target_duration=slot.duration,
        requested_duration=clip.requested_duration,
        duration=round(info.duration, 3),
        width=info.width,
        height=info.height,
        fps=round(info.fps, 3),
        cost=clip.cost,
        assets=clip.assets,
        generation_time=round(time.perf_counter() - started, 3),
        attempts=_attempt(),
    )
    validation = validate_clip(result)
    if not (validation.file_ok and validation.duration_ok and validation.resolution_ok and validation.fps_ok):
        # permanent: the same prompt and slot give the same mismatch again (a paid call per retry on a vendor)
        raise ProviderError(
            f"clip {prompt.index} failed validation: {validation.model_dump()}",
            provider=generator.provider_id,
            stage="video",
        )
    result = result.model_copy(update={"consistency": _consistency(clip.path, result, prompt, reference, characters)})
    # validated: into the job's storage, where the composer (on any worker) and the API find it
    keys = JobKeys(job_id)
    key = keys.clip(prompt.index, ".mp4") if version is None else keys.clip_version(prompt.index, version)
    uri = get_storage().put_file(key, clip.path, "intermediate")
    result = result.model_copy(update={"validation": validation, "uri": uri})
    if version is None:
        _record_clip(job_id, result)
    if conform is not None and not clip.conformed:
        _conform_now(clip.path, conform, render or get_settings().render)
    report(
        job_id,
        "video",
        "running",
        100,
        f"Clip {prompt.index + 1}/{total}{f' version {version}' if version else ''} ready: {result.duration:.1f} s "
        f"for a {slot.duration:.2f} s slot",
        clip_index=prompt.index,
        clip_count=total,
        cost=result.cost,
    )
    return result


def _consistency(
    path: Path, result: ClipResult, prompt: ClipPrompt, reference: Path | None, characters: dict[str, Path]
) -> ClipConsistency | None:
    """The clip's look against the plan's palette and its references; None (and a log line) if it cannot be read."""
    refs = [p for p in (reference, *characters.values()) if p is not None]
    try:
        return check_clip(path, duration=result.duration, palette=prompt.palette, references=refs,
                          characters=list(characters))  # fmt: skip
    except CompositionError as exc:
        log.warning("consistency check of clip %d failed: %s", result.index, exc)
        return None


def _conform_now(path: Path, spec: ConformSpec, render: RenderSettings) -> None:
    """Encode the clip's 1080p pieces now, while other clips are still being generated: x264 at 1080p is the
    pipeline's bottleneck, and the composer then finds them in the cache. Best effort: compose retries."""
    try:
        conform_clip(path, spec, render=spec.render(render), cache_dir=conform_cache())
    except CompositionError as exc:
        log.warning("early conform of %s failed (the composer will retry): %s", path.name, exc)


def _record_clip(job_id: str, result: ClipResult) -> None:
    """Per-job clip manifest, so the API lists each clip as soon as it is ready (the flow adds cached ones)."""
    put_json(JobKeys(job_id).clip(result.index, ".json"), result)


def failed_clip(slot: Slot, error: BaseException, *, attempts: int) -> ClipResult:
    gen = get_settings().providers.video
    return ClipResult(
        index=slot.index,
        status="failed",
        provider=gen,
        target_duration=slot.duration,
        requested_duration=0.0,
        attempts=attempts,
        error=f"{type(error).__name__}: {error}",
    )
