"""Budget guard: estimates before spending, cheaper configurations, refusal, and the per-job ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import budget
from core.budget import VideoChoice
from core.errors import BudgetError
from core.ledger import FileLedger, store_for
from core.settings import Settings, get_settings

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
    assert stages["reference"].cost == pytest.approx(4 * 0.003)  # the style image + up to 3 characters
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


@pytest.fixture
def ledger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Jobs' ledgers in a file store of this test's own."""
    monkeypatch.setenv("VIDEOGEN_BUDGET__LEDGER_URL", f"file://{tmp_path / 'ledger'}")
    get_settings.cache_clear()
    yield tmp_path / "ledger"
    get_settings.cache_clear()


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


def test_paid_calls_in_a_job_charge_its_ledger(ledger_dir: Path) -> None:
    # input: a $0.10 job; a $0.04 worst case that cost $0.03, then a $0.08 worst case (0.03 + 0.08 > 0.10)
    budget.open_job("job", 0.10)
    refusal = r"clip 1 \(up to \$0\.0800\) would pass the job's hard cap \$0\.10"
    with budget.job_scope("job"):
        with budget.paid_call(0.04, "clip 0") as charge:
            charge.actual = 0.03
        with pytest.raises(BudgetError, match=refusal), budget.paid_call(0.08, "clip 1"):
            pytest.fail("the refused call must not run")
    found = budget.ledger("job")
    assert found is not None and found.spent == pytest.approx(0.03) and found.reserved == 0.0 and found.calls == 1
    assert isinstance(store_for(get_settings()), FileLedger) and (ledger_dir / "job.json").exists()


def test_a_retried_run_keeps_what_was_spent(ledger_dir: Path) -> None:
    # input: a run opens a $1 job, spends $0.70 and ends (close_job); its retry opens the same job id with $1
    budget.open_job("retried", 1.0)
    with budget.job_scope("retried"), budget.paid_call(0.7, "first try") as charge:
        charge.actual = 0.7
    budget.close_job("retried")
    again = budget.open_job("retried", 1.0)
    assert again.spent == pytest.approx(0.7) and again.cap == 1.0
    with budget.job_scope("retried"), pytest.raises(BudgetError, match="hard cap"), budget.paid_call(0.5, "retry"):
        pass


def test_a_failed_call_releases_its_hold(ledger_dir: Path) -> None:
    # input: the vendor call raises inside paid_call after nothing was charged
    budget.open_job("failing", 1.0)
    with budget.job_scope("failing"), pytest.raises(RuntimeError), budget.paid_call(0.9, "clip"):
        raise RuntimeError("vendor down")
    found = budget.ledger("failing")
    assert found is not None and found.reserved == 0.0 and found.spent == 0.0 and found.calls == 1


def test_a_job_without_a_ledger_is_unlimited(ledger_dir: Path) -> None:
    # input: a scope on a job nobody opened (offline jobs open none): nothing is refused, nothing is written
    with budget.job_scope("offline-job"), budget.paid_call(1e6, "anything") as charge:
        charge.actual = 5.0
    assert budget.ledger("offline-job") is None and not list(ledger_dir.glob("*.json"))
