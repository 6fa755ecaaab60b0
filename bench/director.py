"""Director mode: recompose after one clip changed vs a full offline render, side by side in one process.

    uv run python -m bench.director [--seconds 60] [--song PATH]

In a fresh VideoGen data dir and Prefect home (a temporary server, started once and shared by every row):
  full render      music_video on the song (cut to --seconds), nothing cached
  regenerate 1     one new version of clip 1 (the generation a director pays for; not part of the recompose)
  recompose        choose_version: clip 1's new version in, only the compose stage runs
Target (issue 14): recompose < 25 % of the full render.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SONG = ROOT / "assets" / "demo" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--seconds", type=float, default=60.0)
    args.add_argument("--song", type=Path, default=DEFAULT_SONG)
    opts = args.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-director-"))
    os.environ.update({"PREFECT_HOME": str(scratch / "prefect"), "VIDEOGEN_DATA_DIR": str(scratch / "data"),
                       "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                       "PREFECT_LOGGING_LEVEL": "ERROR",
                       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"})  # fmt: skip
    os.environ.pop("PREFECT_API_URL", None)
    from prefect import flow
    from rich.console import Console
    from rich.table import Table

    from core.media import cut_audio
    from flows.director import choose_version, regenerate_clip
    from flows.music_video import music_video

    flow(name="bench-warm-up")(lambda: None)()  # the temporary server starts here, outside the timings
    song = cut_audio(opts.song, scratch / "song.mp3", seconds=opts.seconds, quality=4)
    job_id = f"bench-{uuid.uuid4()}"
    rows: list[tuple[str, float, str]] = []
    started = time.perf_counter()
    result = music_video(audio_uri=song.as_uri(), prompt=f"lanterns over a harbour {uuid.uuid4()}", job_id=job_id)
    full = time.perf_counter() - started
    rows.append(("full render", full, f"{len(result.clips)} clips, {result.composition.duration:.2f} s"))
    started = time.perf_counter()
    versions = regenerate_clip(job_id=job_id, clip=1, variants=1)
    rows.append(("regenerate clip 1 (1 variant)", time.perf_counter() - started, f"{len(versions.versions)} versions"))
    started = time.perf_counter()
    chosen = choose_version(job_id=job_id, clip=1, version=1)
    recompose = time.perf_counter() - started
    rows.append(("recompose (choose v1)", recompose, f"compose {chosen.stages[-1].seconds:.2f} s inside the flow"))
    table = Table(title=f"director mode, {opts.seconds:g} s song, offline (server already up)")
    for col in ("step", "wall (s)", "share of full", "note"):
        table.add_column(col)
    for name, secs, note in rows:
        table.add_row(name, f"{secs:.1f}", f"{100 * secs / full:.0f} %", note)
    Console().print(table)
    return 0 if recompose < 0.25 * full else 1


if __name__ == "__main__":
    sys.exit(main())
