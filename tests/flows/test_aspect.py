"""One storyboard in two formats: a 9:16 and a 1:1 render of the same song and prompt on the real Prefect server."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from core.contracts import JobResult, ProgressEvent
from core.media import probe
from core.uris import to_path
from flows.music_video import music_video
from tasks.common import add_listener, remove_listener

PROMPT = "a paper boat sailing down a rainy street"  # not another test's prompt: the first render plans afresh


def _render(song: Path, aspect: str) -> tuple[JobResult, set[str], float]:
    events: list[ProgressEvent] = []
    add_listener(events.append)
    try:
        started = time.perf_counter()
        result = music_video(audio_uri=song.as_uri(), prompt=PROMPT, aspect=aspect,  # type: ignore[arg-type]
                             job_id=f"aspect-{aspect.replace(':', 'x')}-{uuid.uuid4()}")  # fmt: skip
        return result, {e.stage for e in events if e.status == "cached"}, time.perf_counter() - started
    finally:
        remove_listener(events.append)


def test_vertical_and_square_from_one_storyboard(short_song: Path) -> None:
    """9:16 then 1:1 of the same 14 s song and prompt: the videos probe 1080x1920 and 1080x1080, and the second
    format's stage events say the analysis, plan and reference came from the cache (prompts, clips and the
    composition are per format). The storyboard (plan) is the same object in both results."""
    vertical, _, first_wall = _render(short_song, "9:16")
    square, cached, second_wall = _render(short_song, "1:1")
    for result, size in ((vertical, (1080, 1920)), (square, (1080, 1080))):
        info = probe(to_path(result.output_uri))
        assert (info.width, info.height) == size
        assert result.composition.validation.resolution_ok
        assert (result.timeline.width, result.timeline.height) == size
    assert {"audio", "plan", "reference"} <= cached and not {"prompts", "video", "compose"} & cached
    assert square.plan == vertical.plan
    assert all(p.aspect == "1:1" and "Square 1:1 frame" in p.prompt for p in square.prompts)
    print(f"9:16 first format {first_wall:.1f} s, 1:1 second format {second_wall:.1f} s")
