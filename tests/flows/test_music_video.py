"""The whole flow on a real Prefect server (the test harness), offline providers, real audio and ffmpeg."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.contracts import JobResult, ProgressEvent
from core.errors import AudioError, ClipsFailedError
from core.media import probe
from core.settings import get_settings
from core.stages import STAGE_IDS as STAGES
from core.uris import to_path
from flows.music_video import music_video
from providers.registry import register
from tasks.common import add_listener, remove_listener
from tests import flaky

PROMPT = "a robot dancing in a neon city at night"


@pytest.fixture(scope="module")
def first_run(short_song: Path) -> tuple[JobResult, list[ProgressEvent], float]:
    events: list[ProgressEvent] = []
    add_listener(events.append)
    try:
        started = time.perf_counter()
        result = music_video(audio_uri=short_song.as_uri(), prompt=PROMPT, job_id=f"first-{uuid.uuid4()}")
        return result, events, time.perf_counter() - started
    finally:
        remove_listener(events.append)


def test_renders_a_beat_synced_1080p_video(first_run: tuple[JobResult, list[ProgressEvent], float]) -> None:
    result, _, _ = first_run
    video = to_path(result.output_uri)
    info = probe(video)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (1920, 1080)
    assert info.fps == pytest.approx(30, abs=0.01)
    assert abs(info.duration - result.audio.duration) <= 1 / 30 + 1e-3
    assert len(result.clips) >= 3 and all(c.status == "succeeded" for c in result.clips)
    assert len(result.prompts) == len(result.plan.clips) == len(result.audio.boundaries)
    for cut in result.composition.cuts:
        assert min(abs(cut - b) for b in result.audio.beats) <= 0.05, cut
    assert (video.parent / "result.json").exists()
    job_folder = video.parent.parent  # jobs/{id}/: the song, the stage outputs the API shows while it runs, final
    assert video == job_folder / "final" / "final.mp4" and job_folder.name == result.job_id
    assert sorted(p.name for p in (job_folder / "input").iterdir()) == ["audio.mp3", "request.json"]
    for name in ("analysis.json", "plan.json", "reference.json", "reference.png", "prompts.json"):
        assert (job_folder / "intermediate" / name).is_file(), name
    clips = job_folder / "intermediate" / "clips"
    assert len(list(clips.glob("clip-*.json"))) == len(list(clips.glob("clip-*.mp4"))) == len(result.clips)
    assert set(result.cost.by_stage) == set(STAGES)
    assert result.reference.uri is not None and to_path(result.reference.uri).exists()


def test_every_stage_reports_progress(first_run: tuple[JobResult, list[ProgressEvent], float]) -> None:
    result, events, _ = first_run
    finished = {e.stage for e in events if e.status in ("completed", "cached")}
    assert finished >= set(STAGES)
    clip_events = {
        e.clip_index for e in events if e.stage == "video" and e.clip_index is not None and e.progress == 100
    }
    assert clip_events == {c.index for c in result.clips}
    assert events[-1].stage == "job" and events[-1].status == "complete"
    assert all(e.job_id == result.job_id for e in events)


def test_rerun_reuses_every_stage(
    first_run: tuple[JobResult, list[ProgressEvent], float], short_song: Path, tmp_path: Path
) -> None:
    """Same bytes under another name: the cache keys hash content, so nothing is recomputed."""
    first, _, first_wall = first_run
    copy = tmp_path / "renamed.mp3"
    shutil.copyfile(short_song, copy)
    started = time.perf_counter()
    again = music_video(audio_uri=copy.as_uri(), prompt=PROMPT, job_id=f"again-{uuid.uuid4()}")
    wall = time.perf_counter() - started
    assert [s.stage for s in again.stages if s.cached] == list(STAGES)
    # the song was copied into the new job's input/, and the cached analysis names that copy
    assert again.audio.source == again.request.audio_uri
    assert again.audio.source.endswith(f"/jobs/{again.job_id}/input/audio.mp3")
    # cached clips and the reference were copied (hard links) into this job's folder: it is complete on its own
    assert all(
        c.uri and f"/jobs/{again.job_id}/intermediate/clips/clip-{c.index:03d}.mp4" in c.uri for c in again.clips
    )
    assert again.reference.uri and again.reference.uri.endswith(f"/jobs/{again.job_id}/intermediate/reference.png")
    # the cached composition was copied to this job's final/, byte for byte
    assert again.output_uri.endswith(f"/jobs/{again.job_id}/final/final.mp4") and again.output_uri != first.output_uri
    assert to_path(again.output_uri).read_bytes() == to_path(first.output_uri).read_bytes()
    assert wall < first_wall / 2, (wall, first_wall)


def test_other_prompt_gives_other_plan_but_reuses_audio(short_song: Path) -> None:
    result = music_video(audio_uri=short_song.as_uri(), prompt="a fox in a forest at sunrise, watercolor")
    cached = {s.stage for s in result.stages if s.cached}
    assert "audio" in cached and "plan" not in cached and "video" not in cached


def test_deleted_files_are_produced_again(
    first_run: tuple[JobResult, list[ProgressEvent], float], short_song: Path
) -> None:
    """Cache records can outlive their files (someone cleaned data/): those stages run again."""
    first, _, _ = first_run
    to_path(first.clips[0].uri or "").unlink()
    to_path(first.composition.uri).unlink()
    again = music_video(audio_uri=short_song.as_uri(), prompt=PROMPT)
    assert to_path(again.clips[0].uri or "").exists()
    assert abs(probe(to_path(again.output_uri)).duration - again.audio.duration) <= 1 / 30 + 1e-3
    assert {s.stage for s in again.stages if s.cached} >= {"audio", "plan", "reference", "prompts"}


@pytest.fixture()
def flaky_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    register("video", "flaky", "tests.flaky:FlakyVideo")
    monkeypatch.setenv("VIDEOGEN_PROVIDERS__VIDEO", "flaky")
    get_settings.cache_clear()
    flaky.reset()
    yield
    flaky.reset()
    get_settings.cache_clear()


@pytest.mark.usefixtures("flaky_provider")
def test_failed_clip_is_covered_and_only_it_is_regenerated(short_song: Path) -> None:
    """Clip 1 fails permanently (not retried), clip 0 fails once transiently (retried): the video still
    composes; on a rerun only the failed clip is attempted again."""
    flaky.FAIL_ALWAYS.add(1)
    flaky.FAIL_ONCE.add(0)
    prompt = f"flaky run {uuid.uuid4()}"
    result = music_video(audio_uri=short_song.as_uri(), prompt=prompt)
    status = {c.index: c.status for c in result.clips}
    assert status[1] == "failed" and status[0] == "succeeded"
    assert flaky.CALLS[1] == 1, "a permanent error must not be retried"
    assert flaky.CALLS[0] == 2, "a transient error is retried"
    attempts = {c.index: c.attempts for c in result.clips}
    assert attempts[0] == 2 and attempts[1] == 1
    assert result.composition.clips_failed == [1]
    assert abs(probe(to_path(result.output_uri)).duration - result.audio.duration) <= 1 / 30 + 1e-3

    flaky.CALLS.clear()
    flaky.FAIL_ALWAYS.clear()
    again = music_video(audio_uri=short_song.as_uri(), prompt=prompt)
    assert all(c.status == "succeeded" for c in again.clips)
    assert dict(flaky.CALLS) == {1: 1}, "finished clips come from the cache"


@pytest.mark.usefixtures("flaky_provider")
def test_too_few_clips_fails_the_job(short_song: Path) -> None:
    n = len(music_video(audio_uri=short_song.as_uri(), prompt="count clips").clips)
    flaky.FAIL_ALWAYS.update(range(n - 1))
    with pytest.raises(Exception, match="at least 2 are needed"):
        music_video(audio_uri=short_song.as_uri(), prompt=f"doomed {uuid.uuid4()}")


def test_reference_and_lyrics_failures_fall_back(short_song: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The image model fails on every retry and transcription fails: the video is still made, text-only,
    with empty lyrics flagged as a fallback."""
    register("reference", "broken", "tests.flaky:BrokenReference")
    register("transcription", "broken", "tests.flaky:BrokenTranscriber")
    monkeypatch.setenv("VIDEOGEN_PROVIDERS__REFERENCE", "broken")
    monkeypatch.setenv("VIDEOGEN_PROVIDERS__TRANSCRIPTION", "broken")
    get_settings.cache_clear()
    flaky.reset()
    try:
        result = music_video(audio_uri=short_song.as_uri(), prompt=f"fallbacks {uuid.uuid4()}")
    finally:
        get_settings.cache_clear()
    assert result.reference.status == "failed" and result.reference.uri is None
    assert flaky.CALLS[-1] == 3, "reference generation: 1 try + 2 retries (PRD: max 2 retries)"
    assert all(p.reference_uri is None for p in result.prompts)
    assert result.audio.lyrics.fallback_used and result.audio.lyrics.text == ""
    assert "transcription service rejected" in (result.audio.lyrics.error or "")
    assert all(c.status == "succeeded" for c in result.clips)


def test_bad_audio_fails_with_audio_error(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp3"
    fake.write_text("this is a text file renamed to .mp3\n" * 50)
    with pytest.raises(AudioError, match="not a supported audio file"):
        music_video(audio_uri=fake.as_uri(), prompt=PROMPT)


def test_missing_song_fails_with_audio_error(tmp_path: Path) -> None:
    """Input tried: a file:// URI of a song that does not exist (a typo in `prefect deployment run --param`)."""
    missing = tmp_path / "no-such-song.mp3"
    with pytest.raises(AudioError, match="cannot read the song at .*no-such-song.mp3"):
        music_video(audio_uri=missing.as_uri(), prompt=PROMPT)


@pytest.mark.usefixtures("flaky_provider")
def test_strict_run_fails_after_the_other_clips_are_done(short_song: Path) -> None:
    """Input tried: clip 1 refused by the model, with allow_partial=False. The run fails naming clip 1, but only
    after every other clip was generated (so a retry has just that one to do); with the default it would compose."""
    flaky.FAIL_ALWAYS.add(1)
    with pytest.raises(ClipsFailedError, match=r"clips \[1\] failed"):
        music_video(audio_uri=short_song.as_uri(), prompt=f"strict {uuid.uuid4()}", allow_partial=False)
    calls = dict(flaky.CALLS)
    n = len(music_video(audio_uri=short_song.as_uri(), prompt="count clips").clips)  # same song: same boundaries
    assert set(calls) == set(range(n)) and calls[1] == 1


def test_video_failing_validation_never_ends_complete(short_song: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: the composer's real output reported with 43 s of audio missing (``sync_ok=False``, as a cut-off VBR
    MP3 once gave) -> the flow raises CompositionError naming the validation, the last job event is an error, not
    ``complete``, and no result.json is written."""
    from core import compose as compose_core
    from core.errors import CompositionError

    real = compose_core.compose

    def audio_lost(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        bad = result.validation.model_copy(update={"sync_ok": False, "messages": ["video 14.0 s vs audio 0.5 s"]})
        return result.model_copy(update={"sync_drift": 13.5, "validation": bad})

    monkeypatch.setattr(compose_core, "compose", audio_lost)
    events: list[ProgressEvent] = []
    add_listener(events.append)
    job_id = f"invalid-{uuid.uuid4()}"
    try:
        with pytest.raises(CompositionError, match="failed validation: video 14.0 s vs audio 0.5 s"):
            music_video(audio_uri=short_song.as_uri(), prompt=f"invalid video {uuid.uuid4()}", job_id=job_id)
    finally:
        remove_listener(events.append)
    job_events = [e for e in events if e.job_id == job_id and e.stage == "job"]
    assert job_events and job_events[-1].status == "error"
    assert not any(e.status == "complete" for e in events if e.job_id == job_id)
    assert not (get_settings().data_dir / "jobs" / job_id / "final" / "result.json").exists()
