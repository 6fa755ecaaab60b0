"""The OpenAI planner and prompt writer, real ``openai`` client against the loopback fake (never patched)."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from core.contracts import ReferenceImage, VideoPlan
from core.errors import ConfigError, PlanningError, ProviderError, TransientProviderError
from core.faithful import RULES, check_faithful
from core.pricing import token_cost
from core.settings import get_settings
from devtools.fakes import FakeOpenAI
from devtools.fakes.openai import example
from devtools.fakes.pricing import openai_cost
from providers.openai_llm import (
    PLAN_SYSTEM,
    OpenAIPlanner,
    OpenAIPromptWriter,
    PlanDraft,
    PromptDraft,
    plan_payload,
    response_format,
    retry_after,
)
from tests.factories import make_analysis, make_request


def _reference(plan: VideoPlan) -> ReferenceImage:
    return ReferenceImage(uri="file:///ref.png", description="d", cache_key="k", palette=plan.style.palette,
                          provider="offline", status="generated")  # fmt: skip


def test_plan_is_parsed_into_the_contract_and_priced(fake_openai: FakeOpenAI) -> None:
    audio = make_analysis(duration=30)
    plan = OpenAIPlanner().plan(make_request(), audio)
    plan.check_against(audio.boundaries)
    assert plan.planner == "openai" and len(plan.clips) == len(audio.boundaries)
    assert [(t.from_index, t.to_index) for t in plan.transitions] == [(i, i + 1) for i in range(len(plan.clips) - 1)]
    (call,) = fake_openai.calls
    assert call["schema"] == "PlanDraft" and call["model"] == get_settings().openai.planner_model
    assert plan.cost == pytest.approx(openai_cost(fake_openai.calls), abs=1e-6) and plan.cost > 0


def test_prompt_writer_keeps_the_slot_and_uses_the_reply(fake_openai: FakeOpenAI) -> None:
    audio = make_analysis(duration=30)
    plan = OpenAIPlanner().plan(make_request(), audio)
    fake_openai.reset()
    prompt = OpenAIPromptWriter().write(plan, plan.clips[1], reference=_reference(plan), audio=audio)
    assert (prompt.index, prompt.scene_id) == (1, plan.clips[1].scene_id)
    assert prompt.provider == "openai" and "style reference" in prompt.prompt
    assert prompt.cost == pytest.approx(openai_cost(fake_openai.calls), abs=1e-6)


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
def test_invalid_reply_is_repaired_once(fake_openai: FakeOpenAI, fault: str) -> None:
    fake_openai.faults.script = deque([fault])
    audio = make_analysis(duration=20)
    plan = OpenAIPlanner().plan(make_request(), audio)
    plan.check_against(audio.boundaries)
    assert [c["fate"] for c in fake_openai.calls] == [fault, "ok"]
    assert plan.cost == pytest.approx(openai_cost(fake_openai.calls), abs=1e-6), "the invalid reply is paid for too"


def test_twice_invalid_reply_is_a_planning_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.faults.script = deque(["malformed", "truncated"])
    with pytest.raises(PlanningError, match="invalid reply twice"):
        OpenAIPlanner().plan(make_request(), make_analysis(duration=20))
    assert len(fake_openai.calls) == 2


@pytest.mark.parametrize(("fault", "status"), [("429", 429), ("500", 500), ("503", 503)])
def test_rate_limits_and_server_errors_are_transient(fake_openai: FakeOpenAI, fault: str, status: int) -> None:
    fake_openai.faults.script = deque([fault])
    with pytest.raises(TransientProviderError) as info:
        OpenAIPlanner().plan(make_request(), make_analysis(duration=20))
    assert info.value.status == status
    assert len(fake_openai.calls) == 1, "the SDK must not retry on its own (max_retries=0)"


def test_wrong_key_is_permanent(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOGEN_OPENAI__BASE_URL", get_settings().openai.base_url + "/nowhere")  # type: ignore[operator]
    get_settings.cache_clear()
    with pytest.raises(ProviderError) as info:
        OpenAIPlanner().plan(make_request(), make_analysis(duration=20))
    assert not isinstance(info.value, TransientProviderError) and info.value.status == 404


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("VIDEOGEN_OPENAI__API_KEY", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="OPENAI_API_KEY") as info:
        OpenAIPlanner().plan(make_request(), make_analysis(duration=20))
    assert info.value.variable and "OPENAI_API_KEY" in info.value.variable
    get_settings.cache_clear()


def test_draft_schemas_are_strict_compatible() -> None:
    """Strict structured output: every property required, no additional properties anywhere."""
    for model in (PlanDraft, PromptDraft):
        schema = response_format(model)["json_schema"]["schema"]
        for obj in [schema, *schema.get("$defs", {}).values()]:
            assert obj.get("additionalProperties") is False, obj.get("title")
            assert set(obj.get("required", [])) == set(obj["properties"]), obj.get("title")
        assert example(schema, schema.get("$defs", {}))


def test_token_prices() -> None:
    assert token_cost("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert token_cost("llama3.1:8b", 10_000, 10_000) == 0.0  # self-hosted: free


def test_unfaithful_plan_is_repaired_with_the_violations(fake_openai: FakeOpenAI) -> None:
    """A schema-valid reply that turns 'night' into 'dawn' and the city into clouds gets one repair turn that
    names the violations; the second reply is faithful."""
    fake_openai.faults.script = deque(["contradicts"])
    request = make_request("a neon city at night, a dancer in the rain", style="synthwave")
    plan = OpenAIPlanner().plan(request, make_analysis(duration=20))
    assert [c["fate"] for c in fake_openai.calls] == ["contradicts", "ok"]
    repair = fake_openai.calls[1]["last_message"]
    assert "faithfulness rules" in repair and "'dawn'" in repair and "clouds" not in plan.model_dump_json()
    assert check_faithful(request, plan) == [] and {s.time_of_day for s in plan.scenes} == {"night"}


def test_twice_unfaithful_plan_is_a_planning_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.faults.script = deque(["contradicts", "contradicts"])
    with pytest.raises(PlanningError, match="faithfulness rules"):
        OpenAIPlanner().plan(make_request(mood="energetic"), make_analysis(duration=20))
    assert len(fake_openai.calls) == 2


def test_system_prompt_states_the_rules_and_the_payload_what_to_keep() -> None:
    assert RULES in PLAN_SYSTEM
    payload = plan_payload(make_request("rival violinists on a rooftop, no people"), make_analysis(duration=20))
    assert payload["must_keep"]["places"] == ["rooftop"] and payload["must_keep"]["ruled_out"] == ["people"]


def test_rate_limit_carries_retry_after(fake_openai: FakeOpenAI) -> None:
    """Tried: a 429 from the fake with ``Retry-After: 2.5`` -> TransientProviderError.retry_after == 2.5 (the
    retry condition waits that long); a 503 carries none."""
    fake_openai.faults.retry_after = 2.5
    fake_openai.faults.script = deque(["429", "503"])
    for expected in (2.5, None):
        with pytest.raises(TransientProviderError) as info:
            OpenAIPlanner().plan(make_request(), make_analysis(duration=20))
        assert info.value.retry_after == expected


def test_retry_after_header_forms() -> None:
    """Tried: retry-after-ms, seconds, an HTTP date 30 s ahead, junk and nothing."""
    from email.utils import format_datetime

    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after({"retry-after-ms": "1500"}) == 1.5
    assert retry_after({"retry-after": "7"}) == 7.0
    assert 25.0 <= (retry_after({"retry-after": soon}) or 0.0) <= 30.0
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None
