"""The catalogue as data: one dated file for capabilities and prices, a user override, and the budget guard's pick."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from core import budget, catalog, pricing
from core.settings import Settings, get_settings
from tests.core.test_budget import remote

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's catalogue file, selected by VIDEOGEN_CATALOG_PATH; the test writes its content."""
    path = tmp_path / "mine.toml"
    monkeypatch.setenv("VIDEOGEN_CATALOG_PATH", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_every_entry_is_sourced_dated_and_priced_only_where_offered() -> None:
    """All video models of the shipped file: a source, a check date no later than the file's, prices only for
    resolutions the model offers, a default it offers, and the anchors' newer models present."""
    cat = catalog.current()
    assert cat.path == catalog.SHIPPED and cat.checked == date(2026, 12, 1)
    for name, m in cat.video.items():
        assert m.source and m.checked is not None and m.checked <= cat.checked, name
        assert set(pricing.VIDEO[name].per_resolution) <= set(m.resolutions), name
        assert m.default_resolution in m.resolutions and m.durations == tuple(sorted(m.durations)), name
    for newer in ("bytedance/seedance-2.0", "wan-video/wan-2.5-i2v", "wan-video/wan-2.7-i2v",
                  "kwaivgi/kling-v2.5-turbo-pro", "google/veo-3.1-fast", "lightricks/ltx-2-fast",
                  "minimax/hailuo-2.3", "minimax/h3"):  # fmt: skip
        assert newer in cat.video
    assert cat.video["bytedance/seedance-2.0"].takes_references
    assert cat.video["lightricks/ltx-2-fast"].audio_off == {"generate_audio": False}


def test_seedance_lite_rates_are_labelled_by_resolution() -> None:
    """$2.16 per minute is seedance-1-lite's 720p rate; 480p is half of it."""
    price = pricing.VIDEO["bytedance/seedance-1-lite"]
    assert price.per_minute("720p") == pytest.approx(2.16)
    assert price.per_minute("480p") == pytest.approx(1.08)
    assert price.per_minute("1080p") == pytest.approx(4.32)


def test_audio_is_turned_off_where_the_model_makes_its_own() -> None:
    """Veo 3.1 fast makes a soundtrack: its request says generate_audio=false; seedance-1-lite has no such input."""
    veo = catalog.video_model("google/veo-3.1-fast")
    data = veo.build_input(prompt="p", negative_prompt="", duration=6, resolution="1080p", image=None, seed=1)
    assert data["generate_audio"] is False
    lite = catalog.video_model("bytedance/seedance-1-lite")
    assert "generate_audio" not in lite.build_input(prompt="p", negative_prompt="", duration=5, resolution="480p",
                                                     image=None, seed=1)  # fmt: skip


def test_override_changes_one_price_and_the_date(override: Path) -> None:
    """A user file with one price and a date: that price changes, the rest stays as shipped."""
    override.write_text('checked = 2026-11-20\n[video."kwaivgi/kling-v2.1".price]\n"720p" = 0.06\n')
    assert pricing.prices_checked() == date(2026, 11, 20)
    assert pricing.VIDEO["kwaivgi/kling-v2.1"].per_resolution == {"720p": 0.06, "1080p": 0.09}
    assert catalog.video_model("kwaivgi/kling-v2.1").resolutions == ("720p", "1080p")
    assert pricing.VIDEO["bytedance/seedance-1-lite"].per_resolution["720p"] == 0.036


def test_models_command_prints_the_table_and_warns_when_old(override: Path) -> None:
    """`videogen models` with an override dated 2025-01-01 (> 90 days): the table, plus a warning on stderr; with the
    shipped file (dated 2026-12-01, checked against today's date) the warning depends on its age."""
    override.write_text("checked = 2025-01-01\n")
    run = subprocess.run([sys.executable, "-m", "flows.cli", "models"], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "bytedance/seedance-2.0" in run.stdout and "2.16" in run.stdout and "2025-01-01" in run.stdout
    assert "warning" in run.stderr and "days ago" in run.stderr
    assert catalog.current().stale(today=date(2025, 4, 2)) and not catalog.current().stale(today=date(2025, 3, 1))


def test_broken_override_is_a_config_error_naming_the_variable(override: Path) -> None:
    override.write_text("checked = \n")
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="VIDEOGEN_CATALOG_PATH"):
        catalog.current()


def test_auto_picks_the_best_resolution_that_fits_cheapest_first() -> None:
    """video_model=auto, 60 s song: with $1.50/min the best that fits is 768p (LTX-Video, GPU-time estimate
    $0.23/min; no 1080p or 720p model fits); with $10/min 1440p does."""
    low = budget.fit(60, remote(replicate={"video_model": "auto"}))
    assert low.fits and low.video == budget.VideoChoice(model="lightricks/ltx-video", resolution="768p")
    rich = budget.fit(60, remote(replicate={"video_model": "auto"}, budget={"per_minute": 10.0}))
    assert rich.video == budget.VideoChoice(model="lightricks/ltx-2-fast", resolution="1440p")
    # at one resolution, the cheapest model: 1080p within $3/min -> LTX-2 fast ($2.40/min) over Kling, Veo
    mid = budget.fit(60, remote(replicate={"video_model": "auto"}, budget={"per_minute": 3.0}))
    assert mid.video == budget.VideoChoice(model="lightricks/ltx-2-fast", resolution="1080p")


def test_users_choice_is_kept_and_unpriced_resolutions_are_never_picked() -> None:
    """The configured model comes first in a downgrade; hailuo-2.3 (no price) is never a fallback."""
    chosen = budget.fit(60, remote(replicate={"video_model": "bytedance/seedance-1-lite", "video_resolution": "1080p"}))
    assert chosen.video == budget.VideoChoice(model="bytedance/seedance-1-lite", resolution="480p")
    ranked = budget._candidates(60, remote(), None)
    assert all(c.video is not None and c.video.model != "minimax/hailuo-2.3" for _, c in ranked)
    assert Settings().replicate.video_model == "wan-video/wan-2.2-i2v-fast"
