"""Pictures of an :class:`AudioAnalysis` for operators: a PNG and a markdown summary (Prefect artifacts).

The PNG reads top to bottom::

    title     tempo, beats, clips, duration (+ "tempo grid fallback")
    clip band clip numbers, centred in their slots
    plot      section bands (colour per label), energy as a filled area, cut lines through everything
    ticks     every beat a short tick, downbeats full height and brighter
    axis      seconds

Pure Pillow/numpy and deterministic: the same analysis gives the same bytes, so artifacts diff cleanly.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.contracts import AudioAnalysis

RGB = tuple[int, int, int]

BACKGROUND: RGB = (22, 24, 30)
TICK_BAND: RGB = (32, 35, 44)
TEXT: RGB = (230, 232, 238)
DIM_TEXT: RGB = (150, 156, 170)
BEAT: RGB = (150, 156, 170)
DOWNBEAT: RGB = (255, 214, 10)
ENERGY_FILL = (235, 238, 245, 80)  # translucent so the section colour still shows through
ENERGY_LINE: RGB = (235, 238, 245)
BOUNDARY: RGB = (255, 64, 96)
FALLBACK: RGB = (255, 159, 67)
#: muted tones, far from the cut/tick colours so lines stay legible on any section
SECTION_COLOURS: tuple[RGB, ...] = (
    (44, 70, 112),
    (92, 58, 112),
    (38, 96, 84),
    (112, 84, 44),
    (108, 50, 62),
    (66, 90, 44),
    (58, 58, 104),
    (96, 96, 56),
)

MIN_WIDTH, MIN_HEIGHT = 200, 100
MARGIN_X = 10  # room for the first/last axis label and the end cut line
TITLE_H = 18
CLIP_BAND_H = 14
TICK_H = 14
AXIS_H = 16
DOWNBEAT_MATCH = 0.01  # s; cuts are beat times verbatim, so this only absorbs float noise


def time_to_x(t: float, duration: float, width: int) -> int:
    """Pixel column of time ``t`` (clamped to the song) in an image ``width`` wide."""
    span = width - 2 * MARGIN_X - 1
    return MARGIN_X + round(min(max(t / duration, 0.0), 1.0) * span)


def section_colour(label: int) -> RGB:
    return SECTION_COLOURS[label % len(SECTION_COLOURS)]


def section_name(label: int) -> str:
    """Letters read like song form (A B A C); ids past Z keep their number."""
    return chr(ord("A") + label) if label < 26 else f"S{label}"


def _axis_step(duration: float, plot_w: int) -> int:
    """Seconds between axis labels: 5 s for short songs, 10 s otherwise, wider if labels would collide."""
    base = 5 if duration <= 60 else 10
    for step in (5, 10, 15, 30, 60, 120, 300, 600):
        if step >= base and plot_w * step / duration >= 36:
            return step
    return 600


def _title_parts(a: AudioAnalysis) -> list[tuple[str, RGB]]:
    parts = [
        (f"{a.tempo:.1f} BPM", TEXT),
        (f"{len(a.beats)} beats", TEXT),
        (f"{len(a.boundaries)} clips", TEXT),
        (f"{a.duration:.1f} s", TEXT),
    ]
    if a.fallback_used:
        parts.append(("tempo grid fallback", FALLBACK))
    return parts


def _draw_title(
    draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, a: AudioAnalysis, width: int
) -> None:
    parts = _title_parts(a)
    sep = "  ·  "
    avail = width - 2 * MARGIN_X
    # Narrow images drop duration, then beat count; tempo, clips and the fallback warning always stay.
    for drop in ((), (3,), (3, 1)):
        kept = [p for i, p in enumerate(parts) if i not in drop]
        if draw.textlength(sep.join(t for t, _ in kept), font=font) <= avail:
            break
    x = float(MARGIN_X)
    for i, (text, colour) in enumerate(kept):
        if i:
            draw.text((x, 3), sep, fill=DIM_TEXT, font=font)
            x += draw.textlength(sep, font=font)
        draw.text((x, 3), text, fill=colour, font=font)
        x += draw.textlength(text, font=font)


def _energy_polygon(a: AudioAnalysis, width: int, top: int, bottom: int) -> list[tuple[int, int]]:
    """Outline of the energy area; stops where the curve stops when it is shorter than the song."""
    curve = np.clip(np.asarray(a.energy_curve, dtype=np.float64), 0.0, 1.0)
    if curve.size == 0:
        return []
    covered = min(a.duration, curve.size * a.energy_hop)
    x0, x_end = time_to_x(0.0, a.duration, width), time_to_x(covered, a.duration, width)
    xs = np.arange(x0, x_end + 1)
    ts = (xs - x0) / (time_to_x(a.duration, a.duration, width) - x0) * a.duration
    centres = (np.arange(curve.size) + 0.5) * a.energy_hop  # sample i stands for [i*hop, (i+1)*hop)
    ys = bottom - np.interp(ts, centres, curve) * (bottom - top - 2)
    line = [(int(x), round(float(y))) for x, y in zip(xs, ys, strict=True)]
    return [(x0, bottom), *line, (x_end, bottom)]


def _cut_times(a: AudioAnalysis) -> list[float]:
    # The song's start is not a cut; its end is, so the last slot reads as closed.
    return [b.start for b in a.boundaries[1:]] + ([a.boundaries[-1].end] if a.boundaries else [])


def analysis_png(analysis: AudioAnalysis, *, width: int = 1200, height: int = 320) -> bytes:
    """Render the analysis as a PNG: sections, energy, beats/downbeats, clip cuts and a seconds axis."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise ValueError(f"image must be at least {MIN_WIDTH}x{MIN_HEIGHT}, got {width}x{height}")
    a = analysis
    font = ImageFont.load_default()
    plot_top = TITLE_H + CLIP_BAND_H
    tick_top = height - AXIS_H - TICK_H
    tick_bottom = tick_top + TICK_H - 1
    x_left, x_right = time_to_x(0.0, a.duration, width), time_to_x(a.duration, a.duration, width)
    plot_w = x_right - x_left

    img = Image.new("RGBA", (width, height), (*BACKGROUND, 255))
    draw = ImageDraw.Draw(img)

    for sec in a.sections:
        sx0, sx1 = time_to_x(sec.start, a.duration, width), time_to_x(sec.end, a.duration, width)
        draw.rectangle([sx0, plot_top, sx1, tick_top - 1], fill=section_colour(sec.label))

    polygon = _energy_polygon(a, width, plot_top, tick_top - 1)
    if polygon:
        overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ImageDraw.Draw(overlay).polygon(polygon, fill=ENERGY_FILL)
        img = Image.alpha_composite(img, overlay)
        draw = ImageDraw.Draw(img)
        draw.line(polygon[1:-1], fill=ENERGY_LINE, width=1)

    # Section letters after the energy fill, so loud passages do not wash them out.
    for sec in a.sections:
        sx0, sx1 = time_to_x(sec.start, a.duration, width), time_to_x(sec.end, a.duration, width)
        name = section_name(sec.label)
        if sx1 - sx0 > draw.textlength(name, font=font) + 6:
            draw.text((sx0 + 4, plot_top + 2), name, fill=TEXT, font=font)

    draw.rectangle([x_left, tick_top, x_right, tick_bottom], fill=TICK_BAND)
    for t in a.beats:
        x = time_to_x(t, a.duration, width)
        draw.line([(x, tick_top + TICK_H // 2), (x, tick_bottom)], fill=BEAT)
    for t in a.downbeats:  # drawn second so a downbeat is never hidden by its own beat tick
        x = time_to_x(t, a.duration, width)
        draw.line([(x, tick_top), (x, tick_bottom)], fill=DOWNBEAT)

    # Cut lines last among the plot layers: they are what the operator checks against the music.
    half = 1 if plot_w >= 400 else 0  # bold lines, but not so bold they swallow short clips in a thumbnail
    for t in _cut_times(a):
        x = time_to_x(t, a.duration, width)
        draw.rectangle([x - half, TITLE_H, x + half, tick_bottom], fill=BOUNDARY)
    last_label_end = -1.0
    for b in a.boundaries:
        bx0, bx1 = time_to_x(b.start, a.duration, width), time_to_x(b.end, a.duration, width)
        label = str(b.index)
        tw = draw.textlength(label, font=font)
        lx = (bx0 + bx1) / 2 - tw / 2
        if bx1 - bx0 > tw + 4 and lx > last_label_end + 2:  # skip labels that would not fit their slot
            draw.text((lx, TITLE_H + 1), label, fill=BOUNDARY, font=font)
            last_label_end = lx + tw

    step = _axis_step(a.duration, plot_w)
    axis_y = tick_bottom + 1
    for s in range(0, int(a.duration) + 1, step):
        x = time_to_x(float(s), a.duration, width)
        draw.line([(x, axis_y), (x, axis_y + 2)], fill=DIM_TEXT)
        label = f"{s}s"
        tw = draw.textlength(label, font=font)
        lx = min(max(x - tw / 2, 0.0), width - tw)  # keep the first and last labels inside the image
        draw.text((lx, axis_y + 3), label, fill=DIM_TEXT, font=font)

    _draw_title(draw, font, a, width)

    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def analysis_markdown(analysis: AudioAnalysis) -> str:
    """A short markdown summary of the analysis (for a Prefect markdown artifact)."""
    a = analysis
    grid = "tempo grid fallback" if a.fallback_used else "detected beats"
    if a.fallback_used and a.fallback_reason:
        grid += f": {a.fallback_reason}"
    lines = [
        "### Audio analysis",
        "",
        *_table(
            ["", ""],
            [
                ["Tempo", f"{a.tempo:.1f} BPM"],
                ["Beats", f"{len(a.beats)} ({len(a.downbeats)} downbeats)"],
                ["Beat confidence", f"{a.beat_confidence:.2f}"],
                ["Energy", f"{a.energy:.2f}"],
                ["Duration", f"{a.duration:.2f} s"],
                ["Beat grid", grid.replace("|", "\\|")],
            ],
        ),
        "",
        "#### Sections",
        "",
    ]
    if a.sections:
        rows = [[section_name(s.label), f"{s.start:.2f}", f"{s.end:.2f}"] for s in a.sections]
        lines += _table(["Label", "Start (s)", "End (s)"], rows)
    else:
        lines.append("_no sections detected_")
    lines += ["", f"#### Clip boundaries ({len(a.boundaries)})", ""]
    downbeats = np.asarray(a.downbeats, dtype=np.float64)

    def on_downbeat(t: float) -> str:
        if t <= 0.0:
            return "song start"  # not a cut, so there is nothing to judge
        if downbeats.size == 0:
            return "n/a"  # no bar estimate: "no" would wrongly blame the cut
        return "yes" if float(np.min(np.abs(downbeats - t))) <= DOWNBEAT_MATCH else "no"

    rows = [
        [str(b.index), f"{b.start:.2f}", f"{b.end:.2f}", f"{b.duration:.2f}", on_downbeat(b.start)]
        for b in a.boundaries
    ]
    lines += _table(["Clip", "Start (s)", "End (s)", "Duration (s)", "On downbeat"], rows)
    return "\n".join(lines) + "\n"
