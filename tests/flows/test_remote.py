"""The whole flow on the remote path: real ``openai`` and ``replicate`` clients against loopback fakes, Prefect
retries, the global concurrency limit, the budget guard, and cost reconciled against the calls actually made."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import BudgetError
from core.media import probe
from core.settings import get_settings
from core.uris import to_path
from devtools.fakes import FakeOpenAI, FakeReplicate, Faults, serve_openai, serve_replicate
from devtools.fakes.pricing import openai_cost, replicate_cost
from flows.music_video import music_video

REMOTE = {"TRANSCRIPTION": "replicate", "PLANNER": "openai", "REFERENCE": "replicate", "PROMPTS": "openai",
          "VIDEO": "replicate"}  # fmt: skip


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeReplicate, FakeOpenAI]]:
    with (
        serve_replicate(Faults(latency=0.2, latency_max=0.6, seed=1)) as (rep, rep_url),
        serve_openai(Faults(seed=2)) as (oai, oai_url),
        pytest.MonkeyPatch.context() as mp,
    ):
        for kind, name in REMOTE.items():
            mp.setenv(f"VIDEOGEN_PROVIDERS__{kind}", name)
        mp.setenv("REPLICATE_API_TOKEN", "r8_fake")
        mp.setenv("VIDEOGEN_REPLICATE__BASE_URL", rep_url)
        mp.setenv("VIDEOGEN_REPLICATE__POLL_INTERVAL", "0.05")
        mp.setenv("OPENAI_API_KEY", "sk-fake")
        mp.setenv("VIDEOGEN_OPENAI__BASE_URL", oai_url)
        get_settings.cache_clear()
        yield rep, oai
    get_settings.cache_clear()


@pytest.fixture()
def remote(fakes: tuple[FakeReplicate, FakeOpenAI]) -> tuple[FakeReplicate, FakeOpenAI]:
    rep, oai = fakes
    rep.faults, oai.faults = Faults(latency=0.2, latency_max=0.6), Faults()
    rep.whisper, rep.fail_next_video = "lyrics", 0
    rep.reset()
    oai.reset()
    return rep, oai


def _valid(result_uri: str, audio_duration: float) -> None:
    info = probe(to_path(result_uri))
    assert (info.width, info.height, info.video_codec) == (1920, 1080, "h264")
    assert abs(info.duration - audio_duration) <= 1 / 30 + 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("run", range(3))
def test_renders_complete_at_20_percent_transient_failures(
    remote: tuple[FakeReplicate, FakeOpenAI], short_song: Path, run: int
) -> None:
    rep, oai = remote
    rep.faults = Faults(fail_rate=0.2, latency=0.2, latency_max=0.6, seed=100 + run)
    oai.faults = Faults(fail_rate=0.2, seed=200 + run)
    result = music_video(audio_uri=short_song.as_uri(), prompt=f"neon dancer in the rain, take {uuid.uuid4()}")
    _valid(result.output_uri, result.audio.duration)
    assert all(c.status == "succeeded" and c.provider == "replicate" for c in result.clips)
    assert result.plan.planner == "openai" and all(p.provider == "openai" for p in result.prompts)
    assert result.audio.lyrics.provider == "replicate" and not result.audio.lyrics.instrumental
    expected = replicate_cost(rep.calls) + openai_cost(oai.calls)
    assert result.cost.total == pytest.approx(expected, abs=5e-4), (result.cost, expected)
    assert result.cost.total <= 1.5 * result.audio.duration / 60


@pytest.mark.slow
def test_failed_prediction_leaves_the_other_clips_alone(
    remote: tuple[FakeReplicate, FakeOpenAI], short_song: Path
) -> None:
    rep, oai = remote
    rep.fail_next_video = 1  # the first clip prediction ends "failed": permanent, not retried
    oai.faults.script = deque(["429", "500"])  # the planner's first two calls: Prefect retries the task
    result = music_video(audio_uri=short_song.as_uri(), prompt=f"one bad clip {uuid.uuid4()}")
    failed = [c.index for c in result.clips if c.status == "failed"]
    assert len(failed) == 1 and result.composition.clips_failed == failed
    video_calls = [c for c in rep.calls if c["model"] == result.clips[0].model or c["model"].startswith("wan")]
    assert len(video_calls) == len(result.clips), "each clip's prediction made exactly once"
    assert [c["status"] for c in oai.calls[:3]] == [429, 500, 200]
    _valid(result.output_uri, result.audio.duration)
    assert result.cost.total == pytest.approx(replicate_cost(rep.calls) + openai_cost(oai.calls), abs=5e-4)


def test_budget_refusal_happens_before_any_paid_call(
    remote: tuple[FakeReplicate, FakeOpenAI], short_song: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep, oai = remote
    monkeypatch.setenv("VIDEOGEN_BUDGET__PER_MINUTE", "0.01")
    get_settings.cache_clear()
    try:
        with pytest.raises(BudgetError, match="exceeds the budget"):
            music_video(audio_uri=short_song.as_uri(), prompt="too expensive")
    finally:
        get_settings.cache_clear()
    assert rep.calls == [] and oai.calls == []


@pytest.mark.slow
def test_rate_limited_prompt_writer_falls_back_to_the_template(
    remote: tuple[FakeReplicate, FakeOpenAI], short_song: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: the planner's call succeeds, then every chat call is a 429 (Retry-After: 0.2 s) -> each prompt is
    tried 1 + VIDEOGEN_RETRIES times, then written by the template; the job completes with every clip made by
    the (paid) video model (before: the prompt stage failed the job after the paid stages had run)."""
    rep, oai = remote
    monkeypatch.setenv("VIDEOGEN_RETRY_BACKOFF", "0.05")
    get_settings.cache_clear()
    oai.faults = Faults(rate_429=1.0, retry_after=0.2, script=deque(["ok"]))
    try:
        result = music_video(audio_uri=short_song.as_uri(), prompt=f"lanterns on a lake {uuid.uuid4()}")
    finally:
        get_settings.cache_clear()
    _valid(result.output_uri, result.audio.duration)
    assert result.plan.planner == "openai"
    assert all(p.provider == "offline" and p.prompt for p in result.prompts)
    assert all(c.status == "succeeded" and c.provider == "replicate" for c in result.clips)
    prompt_calls = [c for c in oai.calls if c["schema"] == "PromptDraft"]
    assert len(prompt_calls) == len(result.prompts) * (1 + get_settings().retries)
    assert all(c["status"] == 429 for c in prompt_calls)


@pytest.mark.slow
def test_a_reviewed_prompt_edit_survives_the_template_fallback(
    remote: tuple[FakeReplicate, FakeOpenAI], short_song: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: a review (plan_storyboard) while every prompt call is a 429, so the storyboard holds template prompts;
    clip 0's prompt edited; then the render of that storyboard, the writer still rate-limited. Clip 0 renders from
    the edited words and the others from the reviewed ones (before: the fallback skipped the director's edits and
    wrote the template again)."""
    from core.storyboard import check
    from flows.music_video import plan_storyboard

    _, oai = remote
    monkeypatch.setenv("VIDEOGEN_RETRY_BACKOFF", "0.05")
    get_settings.cache_clear()
    oai.faults = Faults(rate_429=1.0, retry_after=0.05, script=deque(["ok"]))
    prompt = f"kites over a harbour {uuid.uuid4()}"
    try:
        board = plan_storyboard(audio_uri=short_song.as_uri(), prompt=prompt)
        clips = list(board.clips)
        clips[0] = clips[0].model_copy(update={"prompt": "one orange kite over black water"})
        edited = check(board.model_copy(update={"clips": clips}), get_settings(), board)
        result = music_video(audio_uri=short_song.as_uri(), prompt=prompt, job_id=board.job_id,
                             storyboard=edited.model_dump(mode="json"))  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert [c["status"] for c in oai.calls if c["schema"] == "PromptDraft"].count(429) >= 2 * len(board.clips)
    assert result.prompts[0].prompt == "one orange kite over black water"
    assert [p.prompt for p in result.prompts[1:]] == [c.prompt for c in board.clips[1:]]
