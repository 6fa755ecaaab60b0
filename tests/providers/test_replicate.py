"""Replicate image, video and Whisper/WhisperX providers: the real ``replicate`` client against the loopback fake."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest

from core.budget import Ledger, job_scope, open_job
from core.catalog import VIDEO_MODELS
from core.contracts import Camera, ClipPrompt
from core.errors import BudgetError, ConfigError, ProviderError, TransientProviderError
from core.lyrics import align, parse
from core.media import probe
from core.pricing import video_cost
from core.settings import get_settings
from core.timeline import Slot
from devtools.fakes import FakeReplicate
from devtools.fakes.pricing import replicate_cost
from devtools.fakes.replicate import LYRICS, WHISPERX, WHISPERX_INPUTS
from providers.offline.planner import plan_video
from providers.replicate_media import ReplicateImage, ReplicateVideo
from providers.replicate_whisper import ReplicateWhisper, clean_transcript
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


OPENAI_WHISPER = "openai/whisper:8099696689d249cf8b122d833c36ac3f75505c666a395ca40ef26f68e7d3d16e"


@pytest.mark.parametrize("family", ["whisperx", "openai/whisper"])
@pytest.mark.parametrize(
    ("mode", "instrumental", "flagged"),
    [("lyrics", False, False), ("instrumental", True, False), ("empty", True, False), ("hallucinated", True, True)],
)
def test_whisper_lyrics_and_instrumental_fallback(
    fake_replicate: FakeReplicate,
    vibe_ace: Path,
    monkeypatch: pytest.MonkeyPatch,
    family: str,
    mode: str,
    instrumental: bool,
    flagged: bool,
) -> None:
    """Each model family (WhisperX, the default, and openai/whisper), each fake transcript: sung lines, a lone
    "♪" (an untimed word, for WhisperX), nothing, "Thank you for watching!" x 6. Only the lyrics give words."""
    if family == "openai/whisper":
        monkeypatch.setenv("VIDEOGEN_REPLICATE__WHISPER_MODEL", OPENAI_WHISPER)
        get_settings.cache_clear()
    fake_replicate.whisper = mode  # type: ignore[assignment]
    lyrics = ReplicateWhisper().transcribe(vibe_ace, duration=61.5)
    assert lyrics.instrumental is instrumental and lyrics.fallback_used is flagged
    assert (lyrics.text == "") is instrumental and (lyrics.segments == []) is instrumental
    assert (lyrics.words != []) is (family == "whisperx" and not instrumental), "a dropped segment's words go too"
    if not instrumental:
        assert lyrics.language == "en" and lyrics.segments[0].start == pytest.approx(0.5, abs=0.15)
    if flagged:
        assert lyrics.error and "repetition" in lyrics.error
    (call,) = fake_replicate.calls
    assert call["model"] == family if family == "openai/whisper" else call["model"] == WHISPERX
    assert call["input"]["audio_file" if family == "whisperx" else "audio"].startswith("<data:audio/mpeg")
    assert lyrics.cost == pytest.approx(replicate_cost(fake_replicate.calls)) and lyrics.cost > 0


def test_whisperx_words_are_timed_sorted_and_inside_their_lines(fake_replicate: FakeReplicate, vibe_ace: Path) -> None:
    """Input: the fake's three sung lines in WhisperX's format, the "4" of "we dance till 4 in the morning light"
    without start/end/score (as its aligner leaves a numeral). Every word comes back, in song order, inside its
    line; the "4" is placed between "till" and "in" with confidence 0 (kept rather than dropped: captions show it,
    and a supplied word matched onto it gets about the time core.lyrics would interpolate anyway)."""
    lyrics = ReplicateWhisper().transcribe(vibe_ace, duration=61.5)
    (call,) = fake_replicate.calls
    assert call["input"]["align_output"] is True and set(call["input"]) <= WHISPERX_INPUTS
    assert [w.text for w in lyrics.words] == " ".join(text for *_, text in LYRICS).split()
    assert [w.start for w in lyrics.words] == sorted(w.start for w in lyrics.words)
    for w in lyrics.words:
        seg = lyrics.segments[w.line]
        assert seg.start <= w.start <= w.end <= seg.end, w
    i = next(i for i, w in enumerate(lyrics.words) if w.text == "4")
    till, four, after = lyrics.words[i - 1 : i + 2]
    assert till.end <= four.start < four.end <= after.start and four.confidence == 0.0
    assert all(w.confidence >= 0.75 for w in lyrics.words if w.text != "4") and 0.75 <= lyrics.confidence < 0.95
    assert [(a, b) for a, b in lyrics.voiced] == [(s.start, s.end) for s in lyrics.segments]
    assert lyrics.cost == pytest.approx(replicate_cost(fake_replicate.calls)) and lyrics.cost > 0


def test_untimed_words_share_the_gap_to_their_neighbours() -> None:
    """Input (no server): one WhisperX segment 10-14 s whose first two and last words have no times. The first two
    split 10.0-11.0 evenly, the last fills 12.0-14.0; a no-speech Whisper segment's words are dropped with it."""
    output = {"segments": [
        {"start": 10.0, "end": 14.0, "text": " 1 2 three four 5",
         "words": [{"word": "1"}, {"word": "2"}, {"word": "three", "start": 11.0, "end": 11.5, "score": 0.9},
                   {"word": "four", "start": 11.6, "end": 12.0, "score": 0.8}, {"word": "5"}]},
        {"start": 20.0, "end": 22.0, "text": " hmm", "no_speech_prob": 0.9, "avg_logprob": -1.5,
         "words": [{"word": "hmm", "start": 20.0, "end": 21.0, "score": 0.2}]},
    ]}  # fmt: skip
    segments, words, reason = clean_transcript(output)
    assert reason is None and len(segments) == 1
    assert [(w.text, w.start, w.end, w.confidence) for w in words] == [
        ("1", 10.0, 10.5, 0.0), ("2", 10.5, 11.0, 0.0), ("three", 11.0, 11.5, 0.9), ("four", 11.6, 12.0, 0.8),
        ("5", 12.0, 14.0, 0.0),
    ]  # fmt: skip


def test_supplied_lyrics_align_onto_the_remote_words(fake_replicate: FakeReplicate, vibe_ace: Path) -> None:
    """Input: the user's lyrics for the fake song as a person types them ("four" for the sung "4", different
    punctuation and case), aligned onto WhisperX's words: all but "four" are matched and take the recognised
    times; "four" is interpolated between its neighbours."""
    heard = ReplicateWhisper().transcribe(vibe_ace, duration=61.5)
    typed = "Neon rain on the city streets,\nWe dance till four in the morning light\nhearts like engines in the night!"
    out = align(parse(typed), heard, duration=61.5, voiced=heard.voiced)
    timing = [w.timing for w in out.words]
    assert timing.count("matched") == len(timing) - 1 and out.supplied and out.alignment
    four = next(w for w in out.words if w.text == "four")
    assert four.timing == "interpolated"
    for w, h in zip(out.words, heard.words, strict=True):  # one supplied word per sung one, in order
        assert w.timing == "interpolated" or (w.start, w.end) == (h.start, h.end), (w, h)
    i = out.words.index(four)
    assert out.words[i - 1].end <= four.start <= four.end <= out.words[i + 1].start


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
