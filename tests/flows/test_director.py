"""Director mode on the real flow (the session's Prefect server, real ffmpeg, the scripted offline providers with
their call log): a review job waits for its storyboard, is resumed through Prefect's input API with edited cuts
and prompts, renders exactly those; then one clip is regenerated as two variants and one is chosen: only that
clip's file and the final video change, and the call log shows exactly the two new generations."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import resume_flow_run
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType

from core.contracts import JobResult, ProgressEvent
from core.errors import StoryboardError
from core.hashing import sha256_file
from core.progress import fold
from core.settings import get_settings
from core.storage import JobKeys
from core.storyboard import Storyboard, check
from flows.review import stored_storyboard
from providers.storage import get_storage
from tasks.common import add_listener, local_file, remove_listener
from tests.ops.scripted import read_calls

PROMPT = "paper lanterns drifting over a harbour"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("script")
    mp = pytest.MonkeyPatch()
    mp.setenv("VIDEOGEN_SCRIPT_DIR", str(folder))
    mp.setenv("VIDEOGEN_PROVIDERS__VIDEO", "tests.ops.scripted:ScriptedVideo")
    mp.setenv("VIDEOGEN_PROVIDERS__REFERENCE", "tests.ops.scripted:ScriptedReference")
    get_settings.cache_clear()
    yield folder
    mp.undo()
    get_settings.cache_clear()


def _paused_run(job_id: str, thread: threading.Thread, timeout: float = 240) -> Any:
    """The music-video run waiting for review (the Prefect UI lists it as Paused)."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline and thread.is_alive():
            if stored_storyboard(job_id) is not None:
                runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))  # fmt: skip
                for run in runs:
                    if run.parameters.get("job_id") == job_id:
                        return run
            time.sleep(0.5)
    raise AssertionError("the review run never paused (see the flow's log)")


def _edited(board: Storyboard) -> Storyboard:
    """Cut 1 moved one beat earlier; clip 0's prompt rewritten."""
    k = min(range(len(board.beats)), key=lambda i: abs(board.beats[i] - board.cuts[1]))
    cuts = [board.cuts[0], board.beats[k - 1], *board.cuts[2:]]
    clips = list(board.clips)
    clips[0] = clips[0].model_copy(update={"prompt": "a single red lantern over black water"})
    return check(board.model_copy(update={"cuts": cuts, "clips": clips}), get_settings(), board)


@pytest.fixture(scope="module")
def reviewed(scripted: Path, short_song: Path) -> dict[str, Any]:
    """One review job: paused after its prompts, resumed with an edited storyboard the way the Prefect UI does
    (``resume_flow_run`` with run input), rendered."""
    from flows.music_video import music_video

    job_id = f"director-{uuid.uuid4()}"
    events: list[ProgressEvent] = []
    add_listener(events.append)
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = music_video(audio_uri=short_song.as_uri(), prompt=PROMPT, job_id=job_id, review=True)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        paused = _paused_run(job_id, thread)
        board = stored_storyboard(job_id)
        assert board is not None
        calls_at_review = read_calls(scripted)
        status_at_review = fold([e for e in events if e.job_id == job_id])
        edited = _edited(board)
        resume_flow_run(paused.id, run_input={"storyboard": edited.model_dump(mode="json")})
        thread.join(timeout=600)
    finally:
        remove_listener(events.append)
    assert "error" not in out, out.get("error")
    return {"job_id": job_id, "board": board, "edited": edited, "result": out["result"],
            "calls_at_review": calls_at_review, "status_at_review": status_at_review}  # fmt: skip


def test_review_waits_with_no_clip_generated_then_renders_the_edited_storyboard(reviewed: dict[str, Any]) -> None:
    status = reviewed["status_at_review"]
    assert status.status == "awaiting_review"
    assert [k for k, _, _ in reviewed["calls_at_review"]] == ["reference"]  # planned, painted; no clip paid for
    board, edited, result = reviewed["board"], reviewed["edited"], reviewed["result"]
    assert isinstance(result, JobResult)
    assert board.estimate is not None and board.estimate.clips == len(board.clips)
    fps = result.timeline.fps
    assert result.composition.cuts == [round(round(c * fps) / fps, 3) for c in edited.cuts]
    assert result.composition.cuts != [round(round(c * fps) / fps, 3) for c in board.cuts]
    assert result.prompts[0].prompt == "a single red lantern over black water"
    assert result.prompts[1].prompt == board.clips[1].prompt


def test_regenerate_changes_only_its_clip_and_choose_recomposes(reviewed: dict[str, Any], scripted: Path) -> None:
    from flows.director import choose_version, regenerate_clip

    job_id, result = reviewed["job_id"], reviewed["result"]
    keys, storage = JobKeys(job_id), get_storage()

    def clip_hashes() -> list[str]:
        return [sha256_file(local_file(storage.uri(keys.clip(c.index, ".mp4")))) for c in result.clips]

    reference = sha256_file(local_file(result.reference.uri))
    before, final_before = clip_hashes(), sha256_file(local_file(result.output_uri))
    calls_before = len(read_calls(scripted))

    versions = regenerate_clip(job_id=job_id, clip=1, variants=2)
    new_calls = read_calls(scripted)[calls_before:]
    assert [(k, i) for k, i, _ in new_calls] == [("video", 1), ("video", 1)]
    assert [v.version for v in versions.versions] == [0, 1, 2]
    assert len({v.sha256 for v in versions.versions}) == 3  # two really new clips
    assert clip_hashes() == before  # nothing is used until chosen

    for bad in ({"clip": 1, "variants": 50}, {"clip": len(result.clips), "variants": 1}):
        with pytest.raises(StoryboardError):
            regenerate_clip(job_id=job_id, **bad)
    assert len(read_calls(scripted)) == calls_before + 2

    chosen = choose_version(job_id=job_id, clip=1, version=2)
    assert len(read_calls(scripted)) == calls_before + 2  # the recompose generated nothing
    after = clip_hashes()
    assert after[1] == versions.versions[2].sha256 != before[1]
    assert [h for i, h in enumerate(after) if i != 1] == [h for i, h in enumerate(before) if i != 1]
    assert sha256_file(local_file(chosen.reference.uri)) == reference
    assert sha256_file(local_file(chosen.output_uri)) != final_before
    assert chosen.composition.cuts == result.composition.cuts
    assert [s.stage for s in chosen.stages if s.stage == "compose"] == ["compose"]
    stored = stored_storyboard(job_id)
    assert stored is not None and stored.clips[1].version == 2
