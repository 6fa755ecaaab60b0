"""What an operator sees of a job in the Prefect UI: the analysis (a picture of the beat grid, sections and clip
boundaries), the plan, a cost table, the clips and the final video. Links are signed URLs on S3 (valid for
VIDEOGEN_STORAGE__SIGNED_URL_SECONDS), file URIs locally. Artifacts are best effort: they never fail a job."""

from __future__ import annotations

import base64
import logging
import re

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from core.analysis_plot import analysis_markdown, analysis_png
from core.contracts import AudioAnalysis, JobResult, VideoPlan
from core.storage import JobKeys, Storage
from core.timeline import Timeline
from providers.storage import get_storage

log = logging.getLogger("videogen")


def artifact_key(job_id: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return "job-" + re.sub(r"[^a-z0-9-]+", "-", job_id.lower()).strip("-")


def _link(storage: Storage, uri: str | None, filename: str) -> str:
    """Where an operator's browser can open a stored file."""
    if not uri:
        return ""
    key = storage.key(uri)
    url = storage.signed_url(key, filename=filename) if key is not None else None
    return url or uri


def publish_analysis(job_id: str, analysis: AudioAnalysis) -> None:
    """The analysis as markdown with its picture inline (a data URI: shows without access to the storage), and the
    picture itself in the job's storage."""
    try:
        png = analysis_png(analysis)
        storage = get_storage()
        uri = storage.put_bytes(JobKeys(job_id).intermediate("analysis.png"), png, "intermediate")
        picture = f"![beat grid, sections and clip boundaries](data:image/png;base64,{base64.b64encode(png).decode()})"
        link = _link(storage, uri, f"{job_id}-analysis.png")
        create_markdown_artifact(
            key=f"{artifact_key(job_id)}-analysis",
            markdown=f"# Analysis\n\n{picture}\n\n[picture]({link})\n\n{analysis_markdown(analysis)}",
            description="audio analysis: beats, sections, clip boundaries",
        )
    except Exception:  # noqa: BLE001 - an operator view must not fail the render
        log.warning("analysis artifact of job %s failed", job_id, exc_info=True)


def _plan_markdown(plan: VideoPlan, timeline: Timeline) -> str:
    lines = [
        f"# Plan\n\n{plan.summary}\n",
        f"**Style**: {plan.style.visual_style}; **mood**: {plan.style.mood}; **lighting**: {plan.style.lighting}; "
        f"**palette**: {' '.join(f'`{c}`' for c in plan.style.palette)}\n",
        "| # | start | end | scene | camera | transition out | script |",
        "|---|---|---|---|---|---|---|",
    ]
    for clip in plan.clips:
        out = plan.transitions[clip.index].kind if clip.index < len(plan.transitions) else "end"
        slot = timeline.slot(clip.index)
        lines.append(
            f"| {clip.index} | {slot.start:.2f} | {slot.end:.2f} | {clip.scene_id} | {clip.camera.movement} "
            f"| {out} | {clip.visual_description} |"
        )
    return "\n".join(lines)


def publish_result(result: JobResult) -> None:
    """The plan, a cost table, the clips (with links) and the final video."""
    try:
        _publish_result(result)
    except Exception:  # noqa: BLE001 - an operator view must not fail the render
        log.warning("result artifacts of job %s failed", result.job_id, exc_info=True)


def _publish_result(result: JobResult) -> None:
    storage = get_storage()
    key = artifact_key(result.job_id)
    plan = _plan_markdown(result.plan, result.timeline)
    create_markdown_artifact(key=f"{key}-plan", markdown=plan, description="video plan")
    create_table_artifact(
        key=f"{key}-cost",
        table=[
            {"stage": s.stage, "cost_usd": s.cost, "calls": s.calls, "cached": s.cached, "seconds": s.seconds}
            for s in result.stages
        ]
        + [{"stage": "total", "cost_usd": result.cost.total}],
        description="cost by stage",
    )
    rows = ["| clip | status | seconds | slot | attempts | cost (USD) | file |", "|---|---|---|---|---|---|---|"]
    for c in result.clips:
        link = f"[clip-{c.index:03d}.mp4]({_link(storage, c.uri, f'{result.job_id}-clip{c.index:03d}.mp4')})"
        rows.append(f"| {c.index} | {c.status} | {c.duration:.2f} | {c.target_duration:.2f} | {c.attempts} "
                    f"| {c.cost:.4f} | {link if c.uri else c.error} |")  # fmt: skip
    create_markdown_artifact(key=f"{key}-clips", markdown="# Clips\n\n" + "\n".join(rows), description="clips")
    comp = result.composition
    video = _link(storage, result.output_uri, f"{result.job_id}.mp4")
    create_link_artifact(key=f"{key}-video", link=video, link_text="final video", description="final video")
    create_markdown_artifact(
        key=f"{key}-summary",
        markdown=(
            f"[final video]({video}): {comp.duration:.3f} s, {comp.width}×{comp.height} "
            f"@ {comp.fps:g} fps, drift {comp.sync_drift * 1000:.1f} ms, "
            f"{comp.clips_trimmed} trimmed, {comp.clips_looped} looped"
        ),
        description="final video",
    )
