"""The render quality levels (core.settings.QUALITY): one home that the conform, the windows and the cache read."""

from __future__ import annotations

import pytest

from core.compose import _x264_args, conform_key
from core.settings import QUALITY, RenderSettings, Settings
from core.timeline import ConformSpec


def test_default_is_standard_and_each_level_reaches_x264() -> None:
    """Tried: the default settings, each level, and an explicit preset/CRF override on top of a level."""
    assert RenderSettings().quality == "standard"
    for level, enc in QUALITY.items():
        args = _x264_args(RenderSettings(quality=level), enc.crf)  # type: ignore[arg-type]
        assert args[args.index("-preset") + 1] == enc.preset
        assert (args[args.index("-tune") + 1] if "-tune" in args else None) == enc.tune
        assert (args[args.index("-x264-params") + 1] if "-x264-params" in args else "") == enc.params
    # A pinned preset drops the level's tuning, which was chosen for the level's own preset.
    pinned = RenderSettings(quality="standard", preset="medium", crf=18).encode
    assert (pinned.preset, pinned.crf, pinned.tune, pinned.params) == ("medium", 18, None, "")
    assert RenderSettings(quality="standard", crf=30).encode.params == QUALITY["standard"].params


def test_quality_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOGEN_RENDER__QUALITY", "high")
    assert Settings().render.encode == QUALITY["high"]
    monkeypatch.setenv("VIDEOGEN_RENDER__QUALITY", "ultra")
    with pytest.raises(ValueError, match="quality"):
        Settings()


def test_quality_changes_the_conform_cache_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Pieces encoded at draft must never be reused for a standard render."""
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"same bytes")
    keys = {conform_key(src, ConformSpec(frames=10), RenderSettings(quality=q)) for q in QUALITY}
    assert len(keys) == len(QUALITY)
