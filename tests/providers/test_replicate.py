"""Replicate image, video and Whisper providers: the real ``replicate`` client against the loopback fake."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest

from core.budget import Ledger, job_scope, open_job
from core.catalog import VIDEO_MODELS
from core.contracts import Camera, ClipPrompt
from core.errors import BudgetError, ConfigError, ProviderError, TransientProviderError
from core.media import probe
from core.pricing import video_cost
from core.settings import get_settings
from core.timeline import Slot
from devtools.fakes import FakeReplicate
from devtools.fakes.pricing import replicate_cost
from providers.offline.planner import plan_video
from providers.replicate_media import ReplicateImage, ReplicateVideo
from providers.replicate_whisper import ReplicateWhisper
from tests.factories import make_analysis, make_request


def _slot(duration: float = 4.4, index: int = 0) -> Slot:
    frames = round(duration * 30)
    return Slot(index=index, start_frame=0, end_frame=frames, start=0.0, end=frames / 30, duration=frames / 30)


def _prompt(duration: float = 4.4, index: int = 0) -> ClipPrompt:
    return ClipPrompt(
        index=index, prompt="a dancer in neon rain #ff2a6d #05d9e8 #d1f7ff", negative_prompt="blurry",
        palette=["#ff2a6d", "#05d9e8", "#d1f7ff"], visual_style="synthwave",
        mood="euphoric", lighting="neon", camera=Camera(movement="zoom_in"), motion="dancing", motion_intensity=0.7,
        energy=0.7, scene_id="s0", seed=7 + index,
    )  # fmt: skip


@pytest.fixture()
def reference(tmp_path: Path) -> Path:
    from providers.offline.reference import paint_reference

    plan = plan_video(make_request(), make_analysis(duration=20))
    return paint_reference(plan.style, tmp_path / "ref.png", seed=1, size=(640, 360))


@pytest.mark.parametrize(
    ("model", "target", "expected"),
    [("wan-video/wan-2.2-i2v-fast", 6.3, 97 / 16), ("bytedance/seedance-1-lite", 4.4, 4.0),
     ("kwaivgi/kling-v2.1", 7.6, 10.0), ("minimax/hailuo-02-fast", 4.0, 6.0)],
)  # fmt: skip
def test_closest_supported_duration_is_requested(model: str, target: float, expected: float) -> None:
    assert ReplicateVideo(model=model).closest_duration(target) == pytest.approx(expected)


def test_i2v_clip_passes_the_reference_and_is_downloaded(
    fake_replicate: FakeReplicate, reference: Path, tmp_path: Path
) -> None:
    video = ReplicateVideo(model="wan-video/wan-2.2-i2v-fast")
    clip = video.generate(_prompt(6.3), slot=_slot(6.3), reference=reference, out=tmp_path / "clip.mp4")
    (call,) = fake_replicate.calls
    assert call["model"] == "wan-video/wan-2.2-i2v-fast" and call["status"] == "succeeded"
    assert call["input"]["num_frames"] == 97 and call["input"]["image"].startswith("<data:image/jpeg")
    info = probe(clip.path)
    assert (info.width, info.height) == (854, 480)
    assert info.duration == pytest.approx(97 / 16, abs=0.1)
    assert clip.requested_duration == pytest.approx(97 / 16)
    assert clip.cost == pytest.approx(replicate_cost(fake_replicate.calls)) and clip.cost == 0.05


def test_t2v_model_gets_no_image_and_per_second_price(
    fake_replicate: FakeReplicate, reference: Path, tmp_path: Path
) -> None:
    video = ReplicateVideo(model="bytedance/seedance-1-lite", resolution="480p")
    clip = video.generate(_prompt(4.4), slot=_slot(4.4), reference=None, out=tmp_path / "clip.mp4")
    (call,) = fake_replicate.calls
    assert "image" not in call["input"] and call["input"]["duration"] == 4
    assert clip.cost == pytest.approx(4 * 0.018) == pytest.approx(replicate_cost(fake_replicate.calls))
    assert probe(clip.path).height == 480


def test_time_billed_model_costs_its_predict_time(fake_replicate: FakeReplicate, tmp_path: Path) -> None:
    fake_replicate.faults.time_scale = 50  # 0.2 s of fake run time reads as 10 GPU-seconds
    clip = ReplicateVideo(model="lightricks/ltx-video").generate(
        _prompt(4.0), slot=_slot(4.0), reference=None, out=tmp_path / "c.mp4"
    )
    (call,) = fake_replicate.calls
    assert call["predict_time"] == pytest.approx(10.0)
    spec = VIDEO_MODELS["lightricks/ltx-video"]
    assert clip.cost == pytest.approx(video_cost(spec, resolution="512p", duration=4.0, predict_time=10.0))


def test_failed_prediction_is_a_permanent_error(fake_replicate: FakeReplicate, tmp_path: Path) -> None:
    fake_replicate.faults.script = deque(["failed"])
    with pytest.raises(ProviderError, match="failed") as info:
        ReplicateVideo().generate(_prompt(), slot=_slot(), reference=None, out=tmp_path / "c.mp4")
    assert not isinstance(info.value, TransientProviderError)
    assert [c["status"] for c in fake_replicate.calls] == ["failed"]
    assert replicate_cost(fake_replicate.calls) == 0.0, "output-priced models do not bill failures"


@pytest.mark.parametrize("fault", ["429", "503"])
def test_rate_limit_and_unavailable_on_create_are_transient(
    fake_replicate: FakeReplicate, tmp_path: Path, fault: str
) -> None:
    fake_replicate.faults.script = deque([fault])
    with pytest.raises(TransientProviderError) as info:
        ReplicateVideo().generate(_prompt(), slot=_slot(), reference=None, out=tmp_path / "c.mp4")
    assert info.value.status == int(fault)
    assert fake_replicate.calls == [], "no prediction was created, nothing billed"


def test_reference_image(fake_replicate: FakeReplicate, tmp_path: Path) -> None:
    plan = plan_video(make_request(), make_analysis(duration=20))
    image = ReplicateImage().generate(plan, description="neon synthwave city", out=tmp_path / "ref.png")
    assert image.status == "generated" and (image.width, image.height) == (1344, 768)
    assert Path(tmp_path / "ref.png").stat().st_size > 1000
    assert image.cost == pytest.approx(0.003) == pytest.approx(replicate_cost(fake_replicate.calls))


@pytest.mark.parametrize(
    ("mode", "instrumental", "flagged"),
    [("lyrics", False, False), ("instrumental", True, False), ("empty", True, False), ("hallucinated", True, True)],
)
def test_whisper_lyrics_and_instrumental_fallback(
    fake_replicate: FakeReplicate, vibe_ace: Path, mode: str, instrumental: bool, flagged: bool
) -> None:
    fake_replicate.whisper = mode  # type: ignore[assignment]
    lyrics = ReplicateWhisper().transcribe(vibe_ace, duration=61.5)
    assert lyrics.instrumental is instrumental and lyrics.fallback_used is flagged
    assert (lyrics.text == "") is instrumental and (lyrics.segments == []) is instrumental
    if not instrumental:
        assert lyrics.language == "en" and lyrics.segments[0].start == 0.5
    if flagged:
        assert lyrics.error and "repetition" in lyrics.error
    (call,) = fake_replicate.calls
    assert call["input"]["audio"].startswith("<data:audio/mpeg")
    assert lyrics.cost == pytest.approx(replicate_cost(fake_replicate.calls)) and lyrics.cost > 0


def test_whisper_failure_gives_empty_lyrics(fake_replicate: FakeReplicate, vibe_ace: Path) -> None:
    fake_replicate.faults.script = deque(["failed"])
    lyrics = ReplicateWhisper().transcribe(vibe_ace, duration=61.5)
    assert lyrics.instrumental and lyrics.fallback_used and lyrics.error


def test_hard_cap_is_never_passed(fake_replicate: FakeReplicate, tmp_path: Path) -> None:
    ledger: Ledger = open_job("capped", cap=0.12)  # wan 480p: $0.05 a clip -> two fit, the third may not start
    made = 0
    with job_scope("capped"), pytest.raises(BudgetError, match="hard cap"):
        for i in range(5):
            ReplicateVideo().generate(_prompt(index=i), slot=_slot(index=i), reference=None, out=tmp_path / f"c{i}.mp4")
            made += 1
    assert made == 2 and len(fake_replicate.calls) == 2, "the refused call never reached the vendor"
    assert ledger.spent == pytest.approx(replicate_cost(fake_replicate.calls))
    assert ledger.spent <= ledger.cap


def test_missing_token_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("VIDEOGEN_REPLICATE__API_TOKEN", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="REPLICATE_API_TOKEN"):
        ReplicateVideo().generate(_prompt(), slot=_slot(), reference=None, out=tmp_path / "c.mp4")
    get_settings.cache_clear()


@pytest.mark.parametrize("model", sorted(VIDEO_MODELS))
def test_every_catalogue_model_request_passes_its_schema(model: str) -> None:
    """For each model of the catalogue, the input our client builds (first frame, references, last frame, 9:16) is
    one the fake's schema for that model accepts, and it carries only what the model takes."""
    from devtools.fakes.replicate import input_problems

    spec = VIDEO_MODELS[model]
    data = spec.build_input(prompt="p", negative_prompt="blurry", duration=spec.durations[0],
                            resolution=spec.default_resolution, image="data:image/jpeg;base64,AA==", seed=3,
                            aspect="9:16", references=["data:a", "data:b", "data:c", "data:d", "data:e"],
                            last_frame="data:z")  # fmt: skip
    assert input_problems(spec, data) == []
    assert ("reference_images" in data) is spec.takes_references
    assert len(data.get("reference_images", [])) <= spec.max_reference_images
    assert (spec.aspect_param in data) is ("9:16" in spec.aspect_ratios)


def test_a_model_rejects_an_input_it_does_not_take(fake_replicate: FakeReplicate) -> None:
    """kling-v2.1 has no aspect_ratio input: the fake answers 422 like Replicate, the client raises a permanent
    ProviderError, and no prediction (nothing billed) exists."""
    from providers.replicate_client import make_client, predict

    data = {"prompt": "p", "duration": 5, "mode": "standard", "start_image": "data:x", "aspect_ratio": "9:16"}
    with pytest.raises(ProviderError, match="aspect_ratio is not allowed") as info:
        predict(make_client(get_settings().replicate), "kwaivgi/kling-v2.1", data, stage="video", timeout=10,
                poll_interval=0.05)  # fmt: skip
    assert info.value.status == 422 and not isinstance(info.value, TransientProviderError)
    assert fake_replicate.calls == [] and fake_replicate.rejected[0]["model"] == "kwaivgi/kling-v2.1"


def test_audio_generating_model_is_asked_for_silence(fake_replicate: FakeReplicate, tmp_path: Path) -> None:
    """LTX-2 fast makes its own soundtrack: the request the fake saw says generate_audio=false."""
    clip = ReplicateVideo(model="lightricks/ltx-2-fast").generate(
        _prompt(6.0), slot=_slot(6.0), reference=None, out=tmp_path / "c.mp4"
    )
    (call,) = fake_replicate.calls
    assert call["input"]["generate_audio"] is False and call["input"]["duration"] == 6
    assert probe(clip.path).height == 1080 and clip.cost == pytest.approx(6 * 0.04)
