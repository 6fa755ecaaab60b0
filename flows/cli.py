"""``videogen`` command line: render a song into a music video with live progress."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

# Prefect reads its settings at import: set quiet, offline-friendly defaults first (the user's env wins).
for _name, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "CRITICAL",
}.items():
    os.environ.setdefault(_name, _value)

from core.errors import PipelineError  # noqa: E402
from core.uris import to_uri  # noqa: E402
from flows.infra_cli import infra  # noqa: E402

if TYPE_CHECKING:  # imported where used, so `--help` and bad arguments answer without loading pydantic models
    from prefect import Flow

    from core.audio_input import AudioFacts
    from core.contracts import CaptionMode, JobResult, ProgressEvent
    from core.settings import Quality
    from core.storyboard import Storyboard
    from core.timeline import Aspect
    from flows.prefect_api import PrefectApi

T = TypeVar("T")
app = typer.Typer(add_completion=False, no_args_is_help=True, help="VideoGen: song + prompt -> music video.")
err = Console(stderr=True)
app.add_typer(infra, name="infra")


@app.callback()
def _main() -> None:
    """VideoGen command line."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _precheck(audio: Path) -> AudioFacts:
    """The input check the API and the analysis make, before Prefect starts: a wrong file fails in a moment.
    The user named the file, so the message names it too."""
    from core.audio_input import inspect_audio
    from core.errors import AudioError
    from core.settings import get_settings

    try:
        return inspect_audio(audio, settings=get_settings().audio)
    except AudioError as exc:
        raise AudioError(f"{audio}: {exc}") from None


def _read_lyrics(path: Path, duration: float) -> str:
    """The lyrics file's text, checked (``core.lyrics.parse``) against the song before anything starts."""
    from core.errors import LyricsError
    from core.limits import MAX_LYRICS_BYTES
    from core.lyrics import parse

    try:
        with path.open("rb") as f:
            data = f.read(MAX_LYRICS_BYTES + 1)
            size = path.stat().st_size
    except OSError as exc:
        raise LyricsError(f"{path}: cannot read the lyrics ({exc.strerror or exc})") from None
    if size > MAX_LYRICS_BYTES:
        raise LyricsError(f"{path}: the lyrics are {size:,} bytes; the limit is {MAX_LYRICS_BYTES:,}")
    try:
        parse(data, duration=duration)
    except LyricsError as exc:
        raise LyricsError(f"{path}: {exc}") from None
    return data.decode("utf-8-sig")


def _warm_audio_stack() -> None:
    """Import librosa/numba (2-4 s) in this thread, while a temporary Prefect server starts: free in its shadow.

    With the user's server nothing is gained, and a song already analysed (the same song, a new prompt) needs no
    librosa at all: the audio stage imports it when it runs. Not in a background thread: numba compiles under
    ``warnings.catch_warnings(record=True)``, which swaps the process-wide warning filters and re-emits what it
    caught, so a thread compiling beside pydantic building its schemas printed warnings that pydantic had filtered
    (the two ``UnsupportedFieldAttributeWarning`` lines of every render)."""
    import librosa.feature
    import librosa.onset
    import librosa.segment  # noqa: F401


class _Display:
    """Renders the job's status as ``core.progress`` folds it (the same fold the API sends to the web UI)."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(bar_width=28),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[status]:<9}"),
            TextColumn("[dim]{task.fields[message]}", justify="left"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        from core.progress import JobFold
        from core.stages import STAGES

        self.fold = JobFold()
        self.rows: dict[str, TaskID] = {
            s.id: self.progress.add_task(s.title, total=100, status="waiting", message="") for s in STAGES
        }

    def __call__(self, ev: ProgressEvent) -> None:
        self.fold.apply(ev)
        for view in self.fold.snapshot().stages:
            if view.state != "pending":
                self.progress.update(self.rows[view.id], completed=view.progress, status=view.state,
                                     message=view.message[:70])  # fmt: skip


def _run_shown(api: PrefectApi, flow: Flow[..., T], **params: Any) -> tuple[T, Console]:
    """Run ``flow`` with the live stage display; its errors are one line on stderr."""
    from tasks.common import add_listener, remove_listener

    if api.temporary:
        _warm_audio_stack()
    console = Console()
    display = _Display(console)
    add_listener(display)
    try:
        api.wait_ready()  # before the display: a server that fails to start is one line, not a frozen display
        with display.progress:
            return api.run(flow, **params), console
    except PipelineError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # an unexpected failure still gets one line, not a traceback
        raise _fail(f"{type(exc).__name__}: {exc}", code=1) from None
    finally:
        remove_listener(display)


def _check_limits(
    prompt: str,
    style: str | None,
    mood: str | None,
    duration_hint: float | None,
    quality: str | None = None,
    aspect: str = "16:9",
) -> None:
    """The request's limits (core.limits, the API's too), before any server starts: one line, exit 2."""
    from pydantic import ValidationError

    from core.contracts import JobRequest
    from core.limits import request_problems
    from core.settings import QUALITY, get_settings

    if quality is not None and quality not in QUALITY:
        raise _fail(f"--quality must be one of {', '.join(QUALITY)}, not {quality!r}")

    raw = JobRequest.model_construct(audio_uri="-", prompt=prompt, style=style, mood=mood, duration_hint=duration_hint,
                                     aspect=cast("Aspect", aspect))  # fmt: skip
    if problems := request_problems(raw, get_settings()):
        raise _fail("; ".join(msg for _, msg in problems))
    try:
        JobRequest.model_validate(raw.model_dump())
    except ValidationError as exc:
        raise _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None


@app.command()
def render(
    audio: Annotated[Path, typer.Argument(help="song: MP3, WAV, OGG, FLAC or M4A")],
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="what the video should show")],
    style: Annotated[str | None, typer.Option(help="visual style, e.g. 'watercolor'")] = None,
    mood: Annotated[str | None, typer.Option(help="mood, e.g. 'melancholic'")] = None,
    duration_hint: Annotated[
        float | None, typer.Option("--duration-hint", help="preferred clip length in seconds (3-7)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="output directory")] = Path("out"),
    job_id: Annotated[str | None, typer.Option(help="job id (default: a new UUID)")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="ignore cached stage results")] = False,
    quality: Annotated[
        str | None, typer.Option(help="draft | standard | high (default: standard, <= 25 MB per minute)")
    ] = None,
    aspect: Annotated[
        str, typer.Option(help="output format: 16:9 (1920x1080), 9:16 (1080x1920) or 1:1 (1080x1080)")
    ] = "16:9",
    lyrics: Annotated[
        Path | None, typer.Option("--lyrics", help="the song's lyrics: plain text (one line per lyric line) or LRC")
    ] = None,
    captions: Annotated[
        str | None, typer.Option("--captions", help="none | soft (default when there are words) | karaoke")
    ] = None,
    review: Annotated[
        bool, typer.Option("--review", help="stop after planning: write OUT/storyboard.json with the estimate")
    ] = False,
    storyboard: Annotated[
        Path | None, typer.Option("--storyboard", help="render this (edited) storyboard.json instead of the plan")
    ] = None,
) -> None:
    """Render AUDIO into OUT/final.mp4 and OUT/result.json (and OUT/final.srt, OUT/final.vtt with lyrics; with
    --review: OUT/storyboard.json, nothing rendered)."""
    started = time.perf_counter()
    if not prompt.strip():
        raise _fail("--prompt must not be empty")
    if captions is not None and captions not in ("none", "soft", "karaoke"):
        raise _fail(f"--captions must be none, soft or karaoke, not {captions!r}")
    _check_limits(prompt, style, mood, duration_hint, quality, aspect)
    if review and storyboard is not None:
        raise _fail("--review and --storyboard exclude each other: review first, then render the storyboard")
    board = _load_storyboard(storyboard) if storyboard is not None else None
    try:
        facts = _precheck(audio)
        lyrics_text = _read_lyrics(lyrics, facts.duration) if lyrics else None
    except PipelineError as exc:
        raise _fail(str(exc)) from None
    if review:
        _review(audio, out, prompt=prompt, style=style, mood=mood, duration_hint=duration_hint, job_id=job_id,
                aspect=cast("Aspect", aspect), lyrics=lyrics_text)  # fmt: skip
        return
    if fresh:
        os.environ["PREFECT_TASKS_REFRESH_CACHE"] = "true"
    from flows.prefect_api import prefect_api

    with prefect_api() as api:  # a temporary server starts now, while the flows and librosa load
        from flows.music_video import music_video

        result, console = _run_shown(
            api,
            music_video,
            audio_uri=to_uri(audio),
            prompt=prompt,
            style=style,
            mood=mood,
            duration_hint=duration_hint,
            job_id=job_id or (board.job_id if board else None),
            storyboard=board.model_dump(mode="json") if board else None,
            aspect=cast("Aspect", aspect),  # both checked above
            lyrics=lyrics_text,
            captions=cast("CaptionMode | None", captions),
            quality=cast("Quality | None", quality),  # checked against QUALITY above
        )
    _write_outputs(result, out)
    _summary(console, result, out, time.perf_counter() - started)


@app.command()
def estimate(
    audio: Annotated[Path, typer.Argument(help="song: MP3, WAV, OGG, FLAC or M4A")],
    providers: Annotated[
        str | None,
        typer.Option(help="comma list of vendors, e.g. 'replicate' or 'replicate,openai' (default: settings)"),
    ] = None,
    video_model: Annotated[
        str | None, typer.Option(help="Replicate video model, e.g. bytedance/seedance-1-lite")
    ] = None,
    resolution: Annotated[str | None, typer.Option(help="video resolution, e.g. 480p")] = None,
    duration_hint: Annotated[
        float | None, typer.Option("--duration-hint", help="preferred clip length (3-7 s)")
    ] = None,
) -> None:
    """Print what rendering AUDIO would cost with the selected providers, without calling any of them."""
    from core import budget
    from core.catalog import VIDEO_MODELS
    from core.errors import BudgetError
    from core.pricing import prices_checked
    from core.settings import get_settings
    from providers.registry import vendor_kinds

    try:
        facts = _precheck(audio)
    except PipelineError as exc:
        raise _fail(str(exc)) from None
    settings = get_settings().model_copy(deep=True)
    kinds_of = vendor_kinds()
    for vendor in filter(None, (providers or "").split(",")):
        if vendor.strip() not in kinds_of:
            raise _fail(f"unknown vendor {vendor!r} (choose from: {', '.join(kinds_of)})")
        for kind in kinds_of[vendor.strip()]:
            setattr(settings.providers, kind, vendor.strip())
    if video_model:
        if video_model not in VIDEO_MODELS and video_model != "auto":
            raise _fail(f"unknown video model {video_model!r} (known: {', '.join(VIDEO_MODELS)})")
        settings.replicate.video_model = video_model
    if resolution:
        settings.replicate.video_resolution = resolution
    duration = facts.duration
    console = Console()
    est = budget.estimate(duration, settings, duration_hint=duration_hint)
    _estimate_table(console, est, f"estimate for {audio.name} ({duration:.1f} s), prices checked {prices_checked()}")
    try:
        chosen = budget.fit(duration, settings, duration_hint=duration_hint)
    except BudgetError as exc:
        raise _fail(f"would be refused: {exc}", code=3) from None
    if chosen.video != est.video or chosen.duration_hint != est.duration_hint:
        _estimate_table(console, chosen, "cheaper configuration the budget guard would use")
    for note in chosen.notes:
        console.print(f"note: {note}", highlight=False)


@app.command()
def models() -> None:
    """List the video models of the catalogue with their cost per minute of video at each resolution."""
    from core import catalog, pricing
    from core.errors import ConfigError

    try:
        cat = catalog.current()
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    console = Console(width=max(Console().width, 170))  # a wide table: never squeezed into 80 columns
    resolutions = sorted({r for m in cat.video.values() for r in m.resolutions}, key=lambda r: catalog.HEIGHTS[r])
    table = Table(title=f"video models, USD per minute of video (prices checked {cat.checked}, {cat.path.name})",
                  title_justify="left")  # fmt: skip
    table.add_column("model", no_wrap=True)
    table.add_column("lengths s")
    table.add_column("inputs")
    for r in resolutions:
        table.add_column(r, justify="right")
    table.add_column("checked")
    for name, m in cat.video.items():
        price = pricing.VIDEO[name]
        inputs = [label for label, on in (("image", m.image != "none"), ("last frame", m.last_frame_param),
                  (f"refs x{m.max_reference_images}", m.takes_references), ("audio in", m.audio_param),
                  ("aspect", m.aspect_param), ("makes audio", m.generates_audio)) if on]  # fmt: skip
        clip = m.closest_duration(5.0)
        cells = []
        for r in resolutions:
            per_min = price.per_minute(r, clip) if r in m.resolutions else None
            cells.append("" if r not in m.resolutions else "?" if per_min is None else f"{per_min:.2f}")
        lengths = f"{m.durations[0]:.3g}-{m.durations[-1]:.3g}"
        table.add_row(name, lengths, ", ".join(inputs) or "text", *cells, str(m.checked or ""))
    console.print(table)
    if cat.stale():
        age = f"the price table was checked {cat.checked}, {cat.age_days()} days ago (> {catalog.STALE_DAYS})"
        err.print(f"[bold yellow]warning:[/] {age}: re-check the prices before trusting an estimate", highlight=False)


# --------------------------------------------------------------------------- director mode (issue 14)


def _load_storyboard(path: Path) -> Storyboard:
    """An edited storyboard, checked (beats, clip limits, locks against the stored one) before anything starts."""
    from pydantic import ValidationError

    from core.errors import StoryboardError
    from core.settings import get_settings
    from core.storyboard import Storyboard, check
    from flows.review import stored_storyboard

    try:
        board = Storyboard.model_validate_json(path.read_bytes())
        return check(board, get_settings(), stored_storyboard(board.job_id))
    except OSError as exc:
        raise _fail(f"{path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    except StoryboardError as exc:
        raise _fail(f"{path}: {exc}") from None


def _review(
    audio: Path,
    out: Path,
    *,
    prompt: str,
    style: str | None,
    mood: str | None,
    duration_hint: float | None,
    job_id: str | None,
    aspect: Aspect,
    lyrics: str | None,
) -> None:
    """``render --review``: plan the job and write OUT/storyboard.json; nothing is generated or paid for."""
    from flows.prefect_api import prefect_api

    with prefect_api() as api:
        from flows.music_video import plan_storyboard

        board, console = _run_shown(api, plan_storyboard, audio_uri=to_uri(audio), prompt=prompt, style=style,
                                    mood=mood, duration_hint=duration_hint, job_id=job_id, aspect=aspect,
                                    lyrics=lyrics)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".storyboard.json.tmp"
    tmp.write_text(board.model_dump_json(indent=2))
    tmp.replace(out / "storyboard.json")
    _storyboard_table(console, board)
    if board.estimate is not None:
        _estimate_table(console, board.estimate, "estimate of the storyboard")
    path = out / "storyboard.json"
    console.print(f"[bold green]wrote[/] {path}: edit it, then videogen render {audio} --prompt ... "
                  f"--storyboard {path} --out {out}")  # fmt: skip


def _storyboard_table(console: Console, board: Storyboard) -> None:
    table = Table(title=f"storyboard of job {board.job_id}", title_justify="left")
    for col in ("clip", "start", "end", "transition", "camera", "script"):
        table.add_column(col)
    edges = board.edges()
    for k, script in enumerate(board.plan.clips):
        kind = board.plan.transitions[k - 1].kind if k else "-"
        lock = " (locked)" if board.clips[k].locked else ""
        table.add_row(str(k), f"{edges[k]:.2f}", f"{edges[k + 1]:.2f}", kind, script.camera.movement,
                      script.visual_description[:60] + lock)  # fmt: skip
    console.print(table)


def _job_of(folder: Path) -> tuple[str, int]:
    """The job id and clip count of a rendered output folder (its result.json)."""
    import json

    try:
        data = json.loads((folder / "result.json").read_text())
        return str(data["job_id"]), len(data["clips"])
    except (OSError, ValueError, KeyError, TypeError):
        raise _fail(f"{folder}: no result.json of a finished render (videogen render ... --out {folder})") from None


@app.command()
def regenerate(
    folder: Annotated[Path, typer.Argument(help="output folder of a render (holds result.json)")],
    clip: Annotated[int, typer.Option("--clip", help="clip index (0-based, as in result.json)")],
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="new prompt for the clip")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="seed of the first variant")] = None,
    variants: Annotated[int, typer.Option("--variants", help="how many versions to generate")] = 1,
) -> None:
    """Generate new versions of one clip; nothing else is regenerated. Then `videogen choose`."""
    from core.errors import StoryboardError
    from core.settings import get_settings
    from core.storyboard import check_regenerate

    job_id, count = _job_of(folder)
    try:
        check_regenerate(count, clip, variants, get_settings())
    except StoryboardError as exc:
        raise _fail(str(exc)) from None
    if prompt is not None and not prompt.strip():
        raise _fail("--prompt must not be empty")
    from flows.prefect_api import prefect_api

    with prefect_api() as api:
        from flows.director import regenerate_clip

        try:
            versions = api.run(regenerate_clip, job_id=job_id, clip=clip, prompt=prompt, seed=seed, variants=variants)
        except PipelineError as exc:
            raise _fail(str(exc)) from None
    console = Console()
    table = Table(title=f"clip {clip} of job {job_id}", title_justify="left")
    for col in ("version", "seed", "cost (USD)", "sha256", "prompt"):
        table.add_column(col)
    for v in versions.versions:
        mark = " (in use)" if v.version == versions.chosen else ""
        table.add_row(f"{v.version}{mark}", str(v.seed), f"{v.clip.cost:.4f}", v.sha256[:12], v.prompt[:50])
    console.print(table)
    console.print(f"choose one: videogen choose {folder} --clip {clip} --version N")


@app.command()
def choose(
    folder: Annotated[Path, typer.Argument(help="output folder of a render (holds result.json)")],
    clip: Annotated[int, typer.Option("--clip", help="clip index (0-based)")],
    version: Annotated[int, typer.Option("--version", min=0, help="version to use (0: the first render)")],
) -> None:
    """Use VERSION of CLIP and recompose FOLDER/final.mp4 and FOLDER/result.json (only the compose runs)."""
    job_id, count = _job_of(folder)
    if not 0 <= clip < count:
        raise _fail(f"clip: no clip {clip}: the video has clips 0-{count - 1}")
    started = time.perf_counter()
    from flows.prefect_api import prefect_api

    with prefect_api() as api:
        from flows.director import choose_version

        try:
            result = api.run(choose_version, job_id=job_id, clip=clip, version=version)
        except PipelineError as exc:
            raise _fail(str(exc)) from None
    _write_outputs(result, folder)
    _summary(Console(), result, folder, time.perf_counter() - started)


@app.command()
def edit(
    storyboard: Annotated[Path, typer.Argument(help="a storyboard.json written by render --review")],
    split: Annotated[int | None, typer.Option("--split", help="cut clip N in two on a beat")] = None,
    at: Annotated[
        float | None, typer.Option("--at", help="with --split: the beat, seconds (default: mid-clip)")
    ] = None,
    merge: Annotated[int | None, typer.Option("--merge", help="join clip N with the next one")] = None,
    lock: Annotated[int | None, typer.Option("--lock", help="keep clip N through later edits")] = None,
    unlock: Annotated[int | None, typer.Option("--unlock", help="let clip N be edited again")] = None,
) -> None:
    """Split, merge, lock or unlock a clip of STORYBOARD in place, checked like any edit; prints the new
    storyboard and its estimate. Nothing is generated."""
    from pydantic import ValidationError

    from core.errors import StoryboardError
    from core.settings import get_settings
    from core.storyboard import Storyboard, StoryboardEdit, check

    asked = {op: n for op, n in (("split", split), ("merge", merge), ("lock", lock), ("unlock", unlock))
             if n is not None}  # fmt: skip
    if len(asked) != 1:
        raise _fail("give one of --split, --merge, --lock, --unlock")
    ((op, clip),) = asked.items()
    try:
        board = Storyboard.model_validate_json(storyboard.read_bytes())
        edited = check(StoryboardEdit(op=op, clip=clip, at=at).apply(board), get_settings(), board)
    except OSError as exc:
        raise _fail(f"{storyboard}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    except StoryboardError as exc:
        raise _fail(str(exc)) from None
    tmp = storyboard.with_name(f".{storyboard.name}.tmp")
    tmp.write_text(edited.model_dump_json(indent=2))
    tmp.replace(storyboard)
    console = Console()
    _storyboard_table(console, edited)
    if edited.estimate is not None:
        _estimate_table(console, edited.estimate, "estimate of the storyboard")


def _estimate_table(console: Console, est: object, title: str) -> None:
    from core.budget import Estimate

    assert isinstance(est, Estimate)
    table = Table(title=title, title_justify="left")
    for col in ("stage", "provider", "model", "calls", "units", "cost (USD)"):
        table.add_column(col, justify="right" if col in ("calls", "cost (USD)") else "left", no_wrap=col == "model")
    for line in est.lines:
        table.add_row(line.stage, line.provider, line.model, str(line.calls), line.unit, f"{line.cost:.4f}")
    table.add_row("total", "", f"{est.clips} clips x {est.clip_seconds:.2f} s", "", "", f"{est.total:.4f}",
                  style="bold")  # fmt: skip
    table.add_row("budget", "", f"hard cap ${est.hard_cap:.2f}", "", "", f"{est.budget:.4f}")
    console.print(table)


def _write_outputs(result: JobResult, out: Path) -> None:
    """Atomic: a reader never sees a half-written final.mp4 or result.json."""
    import shutil

    from providers.storage import get_storage

    out.mkdir(parents=True, exist_ok=True)
    video_tmp, json_tmp = out / ".final.mp4.tmp", out / ".result.json.tmp"
    shutil.copyfile(get_storage().local(result.output_uri), video_tmp)
    json_tmp.write_text(result.model_dump_json(indent=2))
    comp = result.composition
    for uri, name in ((comp.captions_srt, "final.srt"), (comp.captions_vtt, "final.vtt")):
        if uri:  # sidecars first: a reader that sees final.mp4 sees its captions
            shutil.copyfile(get_storage().local(uri), out / f".{name}.tmp")
            (out / f".{name}.tmp").replace(out / name)
    video_tmp.replace(out / "final.mp4")
    json_tmp.replace(out / "result.json")


def _summary(console: Console, result: JobResult, out: Path, wall: float) -> None:
    from core.stages import stage

    table = Table(title=f"job {result.job_id}", title_justify="left")
    for col in ("stage", "reused", "seconds", "calls", "cost (USD)"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    for s in result.stages:
        table.add_row(stage(s.stage).title, "cached" if s.cached else "-", f"{s.seconds:.2f}", str(s.calls),
                      f"{s.cost:.4f}")  # fmt: skip
    table.add_row("total", "", f"{wall:.2f}", "", f"{result.cost.total:.4f}", style="bold")
    console.print(table)
    comp, audio = result.composition, result.audio
    failed = [c.index for c in result.clips if c.status == "failed"]
    console.print(
        f"{len(result.clips)} clips ({comp.clips_trimmed} trimmed, {comp.clips_looped} looped"
        f"{f', failed {failed}' if failed else ''}), {audio.tempo:.1f} BPM"
        f"{' (tempo-grid fallback)' if audio.fallback_used else ''}, "
        f"{comp.duration:.3f} s for {audio.duration:.3f} s of audio (drift {comp.sync_drift * 1000:.1f} ms)"
    )
    console.print(f"[bold green]wrote[/] {out / 'final.mp4'} and {out / 'result.json'}")


def main() -> None:
    """The ``videogen`` entry point: a usage error (an unknown option, ``--duration-hint soon``) is one line on
    stderr and exit 2, like every other refusal, instead of click's boxed usage block."""
    import sys

    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # typer 0.29 vendors click: its usage errors derive from this
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `videogen`: the help, as before
            ctx = getattr(exc, "ctx", None)
            print(ctx.get_help() if ctx else exc)
            code = 2
        else:
            _fail(exc.format_message() if hasattr(exc, "format_message") else str(exc))
            code = getattr(exc, "exit_code", 2)
    except typer.Abort:
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
