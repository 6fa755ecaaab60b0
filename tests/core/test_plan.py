"""The offline scene planner: complete, valid, deterministic, and driven by prompt and music."""

from __future__ import annotations

import pytest

from core.contracts import VideoPlan
from core.errors import PlanningError
from core.faithful import check_faithful, read_request
from providers.offline.planner import plan_video
from tests.factories import make_analysis, make_request


def test_plan_matches_boundaries_and_validates() -> None:
    audio = make_analysis(duration=40.0, sections=[(0, 20, 0), (20, 40, 1)])
    plan = plan_video(make_request(), audio)
    plan.check_against(audio.boundaries)
    assert len(plan.clips) == len(audio.boundaries) >= 3
    assert len(plan.transitions) == len(plan.clips) - 1
    assert [(t.from_index, t.to_index) for t in plan.transitions] == [(i, i + 1) for i in range(len(plan.clips) - 1)]
    assert plan.style.palette and all(c.startswith("#") and len(c) == 7 for c in plan.style.palette)
    # round-trips through JSON with the schema (what the real LLM planner must also satisfy)
    assert VideoPlan.model_validate_json(plan.model_dump_json()) == plan


def test_plan_reads_the_prompt() -> None:
    audio = make_analysis()
    neon = plan_video(make_request("a robot dancing in a neon city, cyberpunk"), audio)
    forest = plan_video(make_request("a fox in a misty forest at sunrise, watercolor"), audio)
    assert "robot" in [c.name for c in neon.characters]
    assert "fox" in [c.name for c in forest.characters]
    assert neon.style.visual_style == "neon cyberpunk"
    assert forest.style.visual_style == "soft watercolor painting"
    assert neon.style.palette != forest.style.palette
    assert any("city" in s.environment for s in neon.scenes)
    assert any("forest" in s.environment for s in forest.scenes)


def test_explicit_style_and_mood_win() -> None:
    plan = plan_video(make_request("a dancer", style="claymation", mood="playful"), make_analysis())
    assert plan.style.visual_style == "claymation"
    assert plan.style.mood == "playful"


def test_plan_is_deterministic() -> None:
    audio = make_analysis()
    assert plan_video(make_request(), audio) == plan_video(make_request(), audio)


def test_transitions_follow_the_music() -> None:
    """Loud half then quiet half: cuts where it is loud, crossfades where it is calm, a fade at the drop."""
    duration = 48.0
    energy = [0.85] * 48 + [0.15] * 48  # 0.5 s hop: loud for 24 s, then calm
    audio = make_analysis(duration=duration, energy=energy, sections=[(0, 24, 0), (24, 48, 1)])
    plan = plan_video(make_request(), audio)
    at = {t.to_index: audio.boundaries[t.to_index].start for t in plan.transitions}  # each transition's cut
    loud = [t for t in plan.transitions if at[t.to_index] < 23]
    calm = [t for t in plan.transitions if at[t.to_index] > 25]
    assert loud and all(t.kind == "cut" for t in loud), [t.kind for t in loud]
    assert calm and all(t.kind == "crossfade" and t.duration > 0 for t in calm), [t.kind for t in calm]
    drop = [t for t in plan.transitions if abs(at[t.to_index] - 24) <= 0.75]
    assert drop and drop[0].kind == "fade"
    assert plan.fade_out > 0


def test_energy_drives_motion() -> None:
    audio = make_analysis(energy=[0.1] * 30 + [0.9] * 30)
    plan = plan_video(make_request(), audio)
    first, last = plan.clips[0], plan.clips[-1]
    assert last.motion_intensity > first.motion_intensity + 0.4


def test_too_few_boundaries_is_a_planning_error() -> None:
    audio = make_analysis(duration=30.0)
    audio = audio.model_copy(update={"boundaries": audio.boundaries[:1]})
    with pytest.raises(PlanningError, match="fewer than 2"):
        plan_video(make_request(), audio)


def test_plan_validation_rejects_mismatched_scripts() -> None:
    audio = make_analysis()
    plan = plan_video(make_request(), audio)
    with pytest.raises(ValueError, match="clip scripts for"):
        plan.check_against(audio.boundaries[:-1])
    bad = plan.model_dump()
    bad["clips"][1]["scene_id"] = "nowhere"
    with pytest.raises(ValueError, match="unknown scene"):
        VideoPlan.model_validate(bad)


def test_loud_mastered_song_still_gets_calm_and_busy_transitions() -> None:
    """A song whose loudness stays in a narrow loud band (0.60-0.70, like a mastered track): the calmer
    stretches still crossfade and the busier ones cut, instead of cutting everywhere."""
    energy = [0.6 + 0.1 * ((i // 10) % 2) for i in range(80)]  # alternating 5 s of 0.6 and 0.7
    plan = plan_video(make_request(), make_analysis(duration=40.0, energy=energy))
    kinds = {t.kind for t in plan.transitions}
    assert {"cut", "crossfade"} <= kinds, [t.kind for t in plan.transitions]


# --------------------------------------------------------------------------- faithful to the request (issue 12)


def test_checker_catches_the_issue_contradictions() -> None:
    """The offline plan for each request is faithful; edited the way the issue saw it go wrong, it is not."""
    audio = make_analysis(duration=30.0)
    night = make_request("a neon city at night, a dancer in the rain", style="synthwave")
    plan = plan_video(night, audio)
    assert check_faithful(night, plan) == []
    dawn = plan.model_copy(update={"scenes": [s.model_copy(update={"time_of_day": "dawn"}) for s in plan.scenes]})
    assert any("'dawn'" in v for v in check_faithful(night, dawn))

    roof = make_request("rival violinists on a rooftop, a detective", style="film noir", mood="tense")
    plan = plan_video(roof, audio)
    assert check_faithful(roof, plan) == []
    sky = [s.model_copy(update={"environment": "deep space among drifting nebulae"}) for s in plan.scenes]
    assert any("rooftop" in v for v in check_faithful(roof, plan.model_copy(update={"scenes": sky})))

    calm = make_request("paper boat on a river", mood="calm")
    plan = plan_video(calm, make_analysis(energy=[0.9] * 60))  # loud song, calm request
    assert check_faithful(calm, plan) == [] and "stage" not in plan.style.lighting
    assert max(c.motion_intensity for c in plan.clips) <= 0.6
    loud = plan.model_copy(update={"style": plan.style.model_copy(update={"lighting": "high-contrast stage lighting"})})
    assert any("lighting" in v for v in check_faithful(calm, loud))

    fast = make_request("a motorbike racing toward a giant sun", mood="energetic")
    plan = plan_video(fast, make_analysis(energy=[0.1] * 60))  # quiet song, energetic request
    assert check_faithful(fast, plan) == [] and min(c.motion_intensity for c in plan.clips) >= 0.5
    assert all("slow" not in c.motion for c in plan.clips) and "road" in plan.scenes[0].environment
    slow = [c.model_copy(update={"motion": "slow, flowing movement"}) for c in plan.clips]
    assert any("slow" in v for v in check_faithful(fast, plan.model_copy(update={"clips": slow})))


def test_reading_keeps_unknown_nouns_synonyms_and_negations() -> None:
    r = read_request(make_request("a kitty and a zorblax on a moto, no people, de noche"))
    assert [t.word for t in r.terms] == ["cat", "zorblax", "motorbike"]
    assert r.no_people and r.times == ("night",)
    plan = plan_video(make_request("an empty city at night, no people"), make_analysis())
    assert plan.characters == [] and "people" in plan.style.avoid
    assert check_faithful(make_request("an empty city at night, no people"), plan) == []


def test_music_shapes_pacing_not_the_subject() -> None:
    """Same request on a quiet and on a loud song: same subjects, places and times; different motion and cuts."""
    request = make_request("a fox in a forest at dusk")
    quiet = plan_video(request, make_analysis(energy=[0.1] * 60))
    loud = plan_video(request, make_analysis(energy=[0.9] * 30 + [0.2] * 30))
    assert [c.name for c in quiet.characters] == [c.name for c in loud.characters] == ["fox"]
    assert {s.time_of_day for s in quiet.scenes} == {s.time_of_day for s in loud.scenes} == {"dusk"}
    assert [c.motion_intensity for c in quiet.clips] != [c.motion_intensity for c in loud.clips]
