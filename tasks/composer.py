"""PRD module 8 as a Prefect task: trim/loop, normalise, transitions on the beat, original audio."""

from __future__ import annotations

from typing import Any

from prefect.context import TaskRunContext

from core import compose as compose_core
from core.contracts import AudioAnalysis, ClipResult, CompositionResult
from core.hashing import code_fingerprint, sha256_file
from core.settings import RenderSettings, get_settings
from core.storage import JobKeys
from core.timeline import Timeline
from core.uris import to_uri
from providers.storage import get_storage
from tasks.common import (
    cache_path,
    conform_cache,
    content_key,
    local_file,
    report,
    run_cache_key,
    stage_task,
)


def compose_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    analysis: AudioAnalysis = params["analysis"]
    timeline: Timeline = params["timeline"]
    clips: list[ClipResult] = params["clips"]
    return content_key(
        "compose",
        analysis.sha256,
        analysis.beats,
        timeline,
        # a clip's URI names its job slot, not its content (a retry may replace it): key on the bytes
        [(c.index, c.status, sha256_file(local_file(c.uri)) if c.uri else None) for c in clips],
        params.get("render") or get_settings().render,
        code_fingerprint("core.compose", "core.timeline", "core.loop", "core.media"),
    )


@stage_task("compose", cache_key_fn=compose_key)
def compose_video(
    job_id: str,
    audio_uri: str,
    analysis: AudioAnalysis,
    timeline: Timeline,
    clips: list[ClipResult],
    render: RenderSettings | None = None,
) -> CompositionResult:
    """Compose in the job's ``render`` format and quality (default: the settings')."""
    render = render or get_settings().render
    good = sum(c.status == "succeeded" for c in clips)
    report(job_id, "compose", "running", 5, f"Composing {good} clips on the beat")
    key = run_cache_key(
        lambda: compose_key(None, {"analysis": analysis, "timeline": timeline, "clips": clips, "render": render})
    )
    out = cache_path("final", key, ".mp4")
    local_clips = [c.model_copy(update={"uri": to_uri(local_file(c.uri))}) if c.uri else c for c in clips]
    result = compose_core.compose(
        local_clips,
        timeline=timeline,
        audio=local_file(audio_uri),
        out=out,
        beats=analysis.beats,
        downbeats=analysis.downbeats,
        onsets=analysis.onsets,
        render=render,
        cache_dir=conform_cache(),  # pieces conformed as clips arrived, or by earlier jobs; windows are not
    )
    final = get_storage().put_file(JobKeys(job_id).final("final.mp4"), out, "final")
    result = result.model_copy(update={"uri": final})
    report(
        job_id,
        "compose",
        "completed",
        100,
        f"{result.duration:.2f} s video, drift {result.sync_drift * 1000:.0f} ms, "
        f"{result.clips_trimmed} trimmed, {result.clips_looped} looped",
    )
    return result
