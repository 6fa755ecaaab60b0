"""PRD module 8 as a Prefect task: trim/loop, normalise, transitions on the beat, original audio."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext

from core import captions as captions_core
from core import compose as compose_core
from core.contracts import AudioAnalysis, ClipResult, CompositionResult, JobRequest, Lyrics
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
        code_fingerprint("core.compose", "core.timeline", "core.loop", "core.media", "core.captions"),
        params.get("captions", "soft"),
        analysis.lyrics.words,
        sha256_file(Path(params["subtitles"])) if params.get("subtitles") else None,
    )


def caption_plan(request: JobRequest, lyrics: Lyrics, palette: list[str], timeline: Timeline) -> tuple[str, str | None]:
    """The job's caption mode (``JobRequest.captions``, default soft) and, for karaoke, the ASS file burned into
    the clips as they are conformed (None without words)."""
    mode = request.captions or "soft"
    ass = karaoke_file(lyrics, palette, width=timeline.width, height=timeline.height) if mode == "karaoke" else None
    return mode, str(ass) if ass else None


def karaoke_file(lyrics: Lyrics, palette: list[str], *, width: int, height: int) -> Path | None:
    """The karaoke ASS (song time) for the per-clip conform, laid out in the output frame's safe area and
    content-addressed in the cache; None without words."""
    if not captions_core.cues(lyrics):
        return None
    text = captions_core.to_ass(lyrics, width=width, height=height, palette=palette)
    path = cache_path("captions", hashlib.sha256(text.encode()).hexdigest()[:32], ".ass")
    if not path.is_file():
        path.write_text(text, encoding="utf-8")
    return path


@stage_task("compose", cache_key_fn=compose_key)
def compose_video(
    job_id: str,
    audio_uri: str,
    analysis: AudioAnalysis,
    timeline: Timeline,
    clips: list[ClipResult],
    captions: str = "soft",
    subtitles: str | None = None,
    render: RenderSettings | None = None,
) -> CompositionResult:
    """``captions``: none / soft / karaoke (``JobRequest.captions``); ``subtitles``: the karaoke ASS the clips
    were conformed with (``karaoke_file``); ``render``: the job's quality (default: the settings')."""
    render = render or get_settings().render
    good = sum(c.status == "succeeded" for c in clips)
    report(job_id, "compose", "running", 5, f"Composing {good} clips on the beat")
    key = run_cache_key(lambda: compose_key(None, {"analysis": analysis, "timeline": timeline, "clips": clips,
                                                   "captions": captions, "subtitles": subtitles,
                                                   "render": render}))  # fmt: skip
    out = cache_path("final", key, ".mp4")
    local_clips = [c.model_copy(update={"uri": to_uri(local_file(c.uri))}) if c.uri else c for c in clips]
    side = tempfile.TemporaryDirectory(prefix="captions-")
    sidecars = (
        captions_core.write_sidecars(analysis.lyrics, Path(side.name), until=analysis.duration)
        if captions != "none"
        else None
    )
    result = compose_core.compose(
        local_clips,
        timeline=timeline,
        audio=local_file(audio_uri),
        out=out,
        beats=analysis.beats,
        downbeats=analysis.downbeats,
        onsets=analysis.onsets,
        render=timeline.render(render),  # the job's quality in the timeline's output frame (its aspect)
        cache_dir=conform_cache(),  # pieces conformed as clips arrived, or by earlier jobs; windows are not
        captions=sidecars[0] if sidecars else None,
        subtitles=Path(subtitles) if subtitles and sidecars else None,
    )
    storage, keys = get_storage(), JobKeys(job_id)
    final = storage.put_file(keys.final("final.mp4"), out, "final")
    update: dict[str, Any] = {"uri": final}
    if sidecars:
        update.update(captions="karaoke" if subtitles else "soft",
                      captions_srt=storage.put_file(keys.final("final.srt"), sidecars[0], "final"),
                      captions_vtt=storage.put_file(keys.final("final.vtt"), sidecars[1], "final"))  # fmt: skip
    side.cleanup()
    result = result.model_copy(update=update)
    report(
        job_id,
        "compose",
        "completed",
        100,
        f"{result.duration:.2f} s video, drift {result.sync_drift * 1000:.0f} ms, "
        f"{result.clips_trimmed} trimmed, {result.clips_looped} looped",
    )
    return result
