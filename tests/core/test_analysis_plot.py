"""The operator's picture and markdown summary of an audio analysis."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from core.analysis_plot import (
    AXIS_H,
    BACKGROUND,
    BEAT,
    BOUNDARY,
    CLIP_BAND_H,
    DOWNBEAT,
    FALLBACK,
    TICK_BAND,
    TICK_H,
    TITLE_H,
    analysis_markdown,
    analysis_png,
    section_colour,
    time_to_x,
)
from core.contracts import AudioAnalysis
from tests.factories import make_analysis

W, H = 1200, 320
PLOT_TOP = TITLE_H + CLIP_BAND_H
TICK_TOP = H - AXIS_H - TICK_H
TICK_BOTTOM = TICK_TOP + TICK_H - 1
PLOT_MID = (PLOT_TOP + TICK_TOP) // 2


def _pixels(png: bytes) -> npt.NDArray[np.uint8]:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"))


def _colour(px: npt.NDArray[np.uint8], x: int, y: int) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in px[y, x])
    return r, g, b


def _x(a: AudioAnalysis, t: float) -> int:
    return time_to_x(t, a.duration, W)


@pytest.mark.parametrize("size", [(1200, 320), (640, 240), (200, 100)])
def test_png_decodes_at_requested_size(size: tuple[int, int]) -> None:
    """30 s steady 120 BPM analysis at the default, a medium and the minimum size."""
    img = Image.open(io.BytesIO(analysis_png(make_analysis(duration=30.0), width=size[0], height=size[1])))
    assert img.format == "PNG"
    assert img.size == size


def test_cut_columns_have_boundary_colour_and_nothing_else_does() -> None:
    """30 s at 120 BPM, a cut every 8 beats (4 s): cut lines at every boundary start after the first and at the end."""
    a = make_analysis(duration=30.0, bar_beats=8)
    px = _pixels(analysis_png(a, width=W, height=H))
    cuts = [b.start for b in a.boundaries[1:]] + [a.duration]
    assert len(cuts) == len(a.boundaries)
    cut_columns = set()
    for t in cuts:
        x = _x(a, t)
        assert _colour(px, x, PLOT_MID) == BOUNDARY, f"no cut line at {t} s (x={x})"
        assert _colour(px, x, TICK_BOTTOM) == BOUNDARY, f"cut line at {t} s does not reach the tick band"
        cut_columns |= {x - 1, x, x + 1}
    for prev, nxt in zip([0.0, *cuts], cuts, strict=False):
        assert _colour(px, _x(a, (prev + nxt) / 2), PLOT_MID) != BOUNDARY  # between cuts: no line
    row = px[PLOT_MID]
    coloured = {x for x in range(W) if tuple(int(v) for v in row[x]) == BOUNDARY}
    assert coloured == cut_columns  # in particular: no line at the song start (the first boundary)


def test_beat_ticks_short_downbeats_tall() -> None:
    """120 BPM grid, downbeat every 4th beat: plain beat at 1.5 s, downbeat at 2.0 s, no beat at 1.75 s."""
    a = make_analysis(duration=30.0, bar_beats=16)  # first cut at 8 s, far from the probed beats
    assert 1.5 in a.beats and 1.5 not in a.downbeats and 2.0 in a.downbeats
    px = _pixels(analysis_png(a, width=W, height=H))
    beat, downbeat, gap = _x(a, 1.5), _x(a, 2.0), _x(a, 1.75)
    low = TICK_BOTTOM - 1
    assert _colour(px, beat, low) == BEAT
    assert _colour(px, gap, low) == TICK_BAND
    assert _colour(px, downbeat, low) == DOWNBEAT
    # Only downbeats reach the top of the tick band.
    assert _colour(px, downbeat, TICK_TOP) == DOWNBEAT
    assert _colour(px, beat, TICK_TOP) == TICK_BAND


def test_different_boundaries_give_different_images() -> None:
    """Same 30 s song cut every 8 beats vs every 4 beats."""
    a, b = make_analysis(duration=30.0, bar_beats=8), make_analysis(duration=30.0, bar_beats=4)
    assert [x.start for x in a.boundaries] != [x.start for x in b.boundaries]
    assert analysis_png(a) != analysis_png(b)


def test_same_analysis_gives_identical_bytes() -> None:
    """One analysis rendered twice, and once more after a JSON round trip (as a cached task result would be)."""
    a = make_analysis(duration=45.0, sections=[(0.0, 20.0, 0), (20.0, 45.0, 1)])
    again = AudioAnalysis.model_validate_json(a.model_dump_json())
    assert analysis_png(a) == analysis_png(a) == analysis_png(again)
    assert analysis_markdown(a) == analysis_markdown(again)


def test_sections_with_the_same_label_share_a_colour() -> None:
    """Sections A [0,10) B [10,20) A [20,30); background probed above the 0.5 energy fill, mid-section (no cut)."""
    a = make_analysis(duration=30.0, bar_beats=8, sections=[(0.0, 10.0, 0), (10.0, 20.0, 1), (20.0, 30.0, 0)])
    px = _pixels(analysis_png(a, width=W, height=H))
    y = PLOT_TOP + (TICK_TOP - PLOT_TOP) // 4
    first, middle, last = (_colour(px, _x(a, t), y) for t in (5.0, 15.0, 25.0))
    assert first == last == section_colour(0)
    assert middle == section_colour(1) != first


def test_edge_cases_render() -> None:
    """No sections, no downbeats, and an energy curve covering only the first 10 s of a 30 s song."""
    a = make_analysis(duration=30.0, bar_beats=8, energy=[0.8] * 20).model_copy(
        update={"sections": [], "downbeats": []}
    )
    px = _pixels(analysis_png(a, width=W, height=H))
    low = TICK_TOP - 3  # inside the energy area wherever there is energy
    assert _colour(px, _x(a, 5.0), low) != BACKGROUND  # energy drawn over the curve's 10 s
    assert _colour(px, _x(a, 18.0), low) == BACKGROUND  # nothing invented past its end, no section band
    tick_band = px[TICK_TOP : TICK_BOTTOM + 1].reshape(-1, 3)
    assert not (tick_band == DOWNBEAT).all(axis=1).any()
    md = analysis_markdown(a)
    assert "_no sections detected_" in md and "n/a" in md


def test_fallback_is_flagged_in_title_and_markdown() -> None:
    """The same analysis with and without fallback_used: only the fallback one paints orange text in the title."""
    a = make_analysis(duration=30.0)
    fb = a.model_copy(update={"fallback_used": True, "fallback_reason": "too few beats"})

    def orange_pixels(png: bytes) -> int:
        # Text is anti-aliased, so count pixels with the warning's hue (red far above blue) rather than exact ones;
        # the grey title text and the background both have red ~ blue.
        title = _pixels(png)[:TITLE_H].astype(int)
        return int(((title[..., 0] - title[..., 2]) > 80).sum())

    assert FALLBACK[0] - FALLBACK[2] > 80
    assert orange_pixels(analysis_png(fb)) > 20
    assert orange_pixels(analysis_png(a)) == 0
    assert "tempo grid fallback: too few beats" in analysis_markdown(fb)
    assert "tempo grid fallback" not in analysis_markdown(a)


@pytest.mark.parametrize("size", [(199, 320), (1200, 99), (0, 0)])
def test_too_small_raises(size: tuple[int, int]) -> None:
    """Sizes just below 200x100 in either dimension, and zero."""
    with pytest.raises(ValueError, match="at least 200x100"):
        analysis_png(make_analysis(), width=size[0], height=size[1])


def test_markdown_lists_every_boundary() -> None:
    """45 s at 120 BPM, a cut every 8 beats: one table row per clip, start/end/duration, downbeat flag."""
    a = make_analysis(duration=45.0, bar_beats=8, sections=[(0.0, 20.0, 0), (20.0, 45.0, 1)])
    md = analysis_markdown(a)
    assert "120.0 BPM" in md and f"{len(a.beats)} (" in md and "0.90" in md
    for b in a.boundaries:
        assert f"| {b.index} | {b.start:.2f} | {b.end:.2f} | {b.duration:.2f} |" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert len(rows) == len(a.boundaries)
    # Every cut here is 8 beats = 2 bars from the last, so every cut after the song start is on a downbeat.
    assert all(r.rstrip(" |").endswith("yes") for r in rows[1:]) and rows[0].rstrip(" |").endswith("song start")
    assert "| A | 0.00 | 20.00 |" in md and "| B | 20.00 | 45.00 |" in md
