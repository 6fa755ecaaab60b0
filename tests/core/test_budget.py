"""Budget guard: estimates before spending, cheaper configurations, refusal, and the per-job ledger."""

from __future__ import annotations

import threading

import pytest

from core import budget
from core.budget import VideoChoice
from core.errors import BudgetError
from core.settings import Settings

REMOTE = {"transcription": "replicate", "planner": "openai", "reference": "replicate", "prompts": "openai",
          "video": "replicate"}  # fmt: skip


def remote(**kw: object) -> Settings:
    return Settings(providers=REMOTE, **kw)  # type: ignore[arg-type]


def test_offline_costs_nothing() -> None:
    est = budget.estimate(60, Settings())
    assert est.total == 0 and est.video is None and est.fits


def test_estimate_prices_every_paid_stage() -> None:
    est = budget.estimate(60, remote())
    assert est.clips == 12 and est.video == VideoChoice(model="wan-video/wan-2.2-i2v-fast", resolution="480p")
    stages = {line.stage: line for line in est.lines}
    assert set(stages) == {"audio", "plan", "reference", "prompts", "video"}
    assert stages["video"].cost == pytest.approx(12 * 0.05)
    assert stages["reference"].cost == pytest.approx(0.003)
    assert est.budget == pytest.approx(1.50) and est.fits


def test_over_budget_picks_a_cheaper_configuration() -> None:
    settings = remote(replicate={"video_model": "kwaivgi/kling-v2.1", "video_resolution": "1080p"})
    first = budget.estimate(60, settings)
    assert not first.fits  # 12 x 5 s x $0.09 = $5.40
    chosen = budget.fit(60, settings)
    assert chosen.fits and chosen.total < first.total
    assert chosen.video is not None and chosen.notes and "exceeds the budget" in chosen.notes[-1]
    # preference: the same model at a lower resolution before another model
    assert chosen.video.model == "kwaivgi/kling-v2.1" or chosen.video.resolution != "1080p"


def test_refusal_is_clear_when_nothing_fits() -> None:
    settings = remote(budget={"per_minute": 0.05})
    with pytest.raises(BudgetError, match=r"exceeds the budget \$0\.05.*cheapest configuration"):
        budget.fit(60, settings)


def test_refusal_without_downgrade() -> None:
    settings = remote(replicate={"video_model": "kwaivgi/kling-v2.1"}, budget={"downgrade": False})
    with pytest.raises(BudgetError, match="VIDEOGEN_BUDGET__PER_MINUTE"):
        budget.fit(60, settings)


def test_ledger_never_passes_the_cap_under_concurrency() -> None:
    ledger = budget.Ledger("j", cap=1.0)
    refused = []

    def spend() -> None:
        for _ in range(20):
            try:
                ledger.reserve(0.03, "call")
            except BudgetError:
                refused.append(1)
                return
            ledger.settle(0.03, 0.03)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.spent <= 1.0 + 1e-9 and refused and ledger.reserved == pytest.approx(0)


def test_paid_call_outside_a_job_is_unlimited() -> None:
    with budget.paid_call(1e6, "anything") as charge:
        charge.actual = 5.0
