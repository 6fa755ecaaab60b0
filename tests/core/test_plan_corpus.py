"""The prompt corpus (tests/core/prompt_corpus.py) against every planner: the offline heuristic, and the OpenAI
planner through the loopback fake (real client, real repair turn). Each plan keeps the corpus' words and times,
shows none of its forbidden words, follows its mood, and breaks none of ``core.faithful``'s rules."""

from __future__ import annotations

import re

import pytest

from core import lexicon as lx
from core.contracts import JobRequest, VideoPlan
from core.faithful import check_faithful
from devtools.fakes import FakeOpenAI
from providers.offline.planner import plan_video
from providers.openai_llm import OpenAIPlanner
from tests.core.prompt_corpus import CORPUS, Case
from tests.factories import make_analysis, make_request
from tests.providers.conftest import fake_openai, openai_server  # noqa: F401 - the loopback fake's fixtures

# A song with a quiet intro and a drop into a loud second section: the music has every chance to push against
# the prompt's mood, and must shape only pacing, camera and transitions.
AUDIO = make_analysis(duration=40.0, energy=[0.15] * 20 + [0.85] * 60, sections=[(0, 10, 0), (10, 40, 1)])


def _request(case: Case) -> JobRequest:
    return make_request(case.prompt, style=case.style, mood=case.mood)


def _scripts(plan: VideoPlan) -> str:
    return " ".join(c.visual_description for c in plan.clips)


def corpus_problems(case: Case, plan: VideoPlan) -> list[str]:
    """The corpus' own expectations, checked independently of the reader, plus the shared rules."""
    out = check_faithful(_request(case), plan)
    body = " ".join([*(f"{c.name} {c.description}" for c in plan.characters),
                     *(s.environment for s in plan.scenes), *(o.name for o in plan.objects)])  # fmt: skip
    k_body, k_scripts = lx.keys(body), lx.keys(_scripts(plan) + " " + " ".join(c.motion for c in plan.clips))
    for word in case.keep:
        if lx.key(word) not in k_scripts:
            out.append(f"corpus: '{word}' missing from the clip scripts")
        if lx.key(word) not in k_body | lx.keys(" ".join(s.time_of_day for s in plan.scenes)) and word not in (
            "racing", "dancing", "sunny", "rain", "snow", "fog", "night"):  # fmt: skip
            out.append(f"corpus: '{word}' missing from characters, scenes and objects")
    if case.times:
        for s in plan.scenes:
            if lx.time_group(s.time_of_day) not in case.times:
                out.append(f"corpus: scene at {s.time_of_day!r}, want {case.times}")
    text = (_scripts(plan) + " " + " ".join(c.motion for c in plan.clips) + " " + plan.style.lighting).lower()
    for word in case.forbid:
        if re.search(rf"\b{re.escape(word)}", text):
            out.append(f"corpus: forbidden {word!r} in the plan")
    if case.motion == "energetic" and min(c.motion_intensity for c in plan.clips) < 0.5:
        out.append("corpus: an energetic prompt has a slow clip")
    if case.motion == "calm" and max(c.motion_intensity for c in plan.clips) > 0.6:
        out.append("corpus: a calm prompt has a fast clip")
    return out


def test_corpus_is_big_and_varied() -> None:
    assert len(CORPUS) >= 40
    assert any(not c.prompt.isascii() for c in CORPUS) and any(c.prompt.isupper() for c in CORPUS)
    assert any(" no " in f" {c.prompt} " or "without" in c.prompt for c in CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c.prompt[:40] for c in CORPUS])
def test_offline_plan_is_faithful(case: Case) -> None:
    plan = plan_video(_request(case), AUDIO)
    assert corpus_problems(case, plan) == []


@pytest.mark.parametrize("case", CORPUS, ids=[c.prompt[:40] for c in CORPUS])
def test_openai_plan_is_faithful(case: Case, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    plan = OpenAIPlanner().plan(_request(case), AUDIO)
    assert plan.planner == "openai"
    assert corpus_problems(case, plan) == []
    assert [c["fate"] for c in fake_openai.calls] == ["ok"], "a faithful first reply needs no repair"
