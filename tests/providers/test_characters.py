"""Consistent characters: a reference image per main character, passed to the clips that show them (on the fake
Replicate's request log), with the text + style-reference fallback when one failed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.contracts import ClipPrompt, VideoPlan
from core.prompts import build_prompt, with_references
from core.settings import get_settings
from core.timeline import Slot
from core.uris import to_path
from devtools.fakes import FakeReplicate
from providers.offline.planner import plan_video
from providers.registry import register
from providers.replicate_media import ReplicateVideo
from tasks.reference_generator import generate_reference
from tests.factories import make_analysis, make_request

SLOT = Slot(index=0, start_frame=0, end_frame=150, start=0.0, end=5.0, duration=5.0)


@pytest.fixture
def plan() -> VideoPlan:
    """A fox and an owl: the offline planner makes both main characters and gives clips one or both."""
    made = plan_video(make_request(prompt="a fox and an owl in a neon forest"), make_analysis(duration=30))
    assert [c.name for c in made.characters] == ["fox", "owl"]
    return made


@pytest.fixture
def half_broken(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    register("reference", "half-characters", "tests.flaky:HalfCharacterReference")
    monkeypatch.setenv("VIDEOGEN_PROVIDERS__REFERENCE", "half-characters")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _prompt(plan: VideoPlan, index: int, reference: object) -> ClipPrompt:
    clip = plan.clips[index]
    return with_references(build_prompt(plan, clip, reference=reference), clip, reference)  # type: ignore[arg-type]


def _files(prompt: ClipPrompt) -> list[Path]:
    return [to_path(u) for u in prompt.character_uris.values()]


def test_reference_stage_paints_one_image_per_character_cached_by_content(plan: VideoPlan) -> None:
    """Offline: the style image plus fox and owl; a second job with the same plan reuses both (status cached)."""
    first = generate_reference.fn(job_id="chars-1", plan=plan)
    assert first.uri and [c.name for c in first.characters] == ["fox", "owl"]
    assert {c.status for c in first.characters} <= {"generated", "cached"}  # cached if this session painted them
    assert all(c.uri and to_path(c.uri).stat().st_size > 1000 for c in first.characters)
    again = generate_reference.fn(job_id="chars-2", plan=plan)
    assert [c.status for c in again.characters] == ["cached", "cached"]
    assert [c.cache_key for c in again.characters] == [c.cache_key for c in first.characters]
    assert all(c.uri and "/jobs/chars-2/intermediate/characters/" in c.uri for c in again.characters)


def test_each_clip_sends_its_characters_references(
    fake_replicate: FakeReplicate, plan: VideoPlan, tmp_path: Path
) -> None:
    """seedance-1-lite takes reference images: each clip's request carries exactly the images of the characters
    its script names (checked on the fake's request log), and the style image as the first frame."""
    reference = generate_reference.fn(job_id="chars-3", plan=plan)
    video = ReplicateVideo(model="bytedance/seedance-1-lite", resolution="480p")
    assert video.takes_references()
    for index in (0, 1):
        prompt = _prompt(plan, index, reference)
        video.generate_with_characters(prompt, slot=SLOT, reference=to_path(reference.uri or ""),
                                       characters=_files(prompt), out=tmp_path / f"c{index}.mp4")  # fmt: skip
    calls = fake_replicate.calls
    assert len(calls) == 2
    for index, call in enumerate(calls):
        shown = plan.clips[index].characters
        assert shown and len(call["input"]["reference_images"]) == len(shown)
        assert all(r.startswith("<data:image/jpeg") for r in call["input"]["reference_images"])
        assert call["input"]["image"].startswith("<data:image/jpeg")


def test_failed_character_reference_falls_back_to_text_and_style(
    fake_replicate: FakeReplicate, plan: VideoPlan, half_broken: None, tmp_path: Path
) -> None:
    """The fox's image fails: the reference stage still succeeds (fox failed, owl generated); a clip showing only
    the fox sends no reference images, just its text and the style image as first frame."""
    reference = generate_reference.fn(job_id="chars-4", plan=plan)
    assert reference.uri is not None
    fox, owl = reference.characters
    assert (fox.status, fox.uri, owl.status) == ("failed", None, "generated") and "refused" in (fox.error or "")
    only_fox = next(i for i, c in enumerate(plan.clips) if c.characters == ["fox"])
    prompt = _prompt(plan, only_fox, reference)
    assert prompt.characters == ["fox"] and prompt.character_uris == {}
    ReplicateVideo(model="bytedance/seedance-1-lite", resolution="480p").generate_with_characters(
        prompt, slot=SLOT, reference=to_path(reference.uri), characters=_files(prompt), out=tmp_path / "c.mp4"
    )
    (call,) = fake_replicate.calls
    assert "reference_images" not in call["input"] and call["input"]["image"].startswith("<data:image/jpeg")
    assert "fox" in call["input"]["prompt"].lower()


def test_model_without_reference_input_never_gets_them(
    fake_replicate: FakeReplicate, plan: VideoPlan, tmp_path: Path
) -> None:
    """kling-v2.1 has no reference-images input: given the characters, it is sent none (and the fake accepts)."""
    reference = generate_reference.fn(job_id="chars-5", plan=plan)
    prompt = _prompt(plan, 0, reference)
    video = ReplicateVideo(model="kwaivgi/kling-v2.1")
    assert not video.takes_references()
    video.generate_with_characters(prompt, slot=SLOT, reference=to_path(reference.uri or ""),
                                   characters=_files(prompt), out=tmp_path / "k.mp4")  # fmt: skip
    (call,) = fake_replicate.calls
    assert call["status"] == "succeeded" and "reference_images" not in call["input"]
