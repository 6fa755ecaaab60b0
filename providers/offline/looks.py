"""Which look the offline renderer gives a clip: a small table from style words to drawing choices.

A ``Look`` names the three layers of a procedural frame (see ``providers.offline.render``):

* ``field``  - the background: travelling interference ``waves``, a synthwave perspective ``grid`` with a sun on the
  horizon, a watercolour ``wash`` of pigment blobs on paper, flat ``bands``, or a mirrored ``kaleido`` field;
* ``motifs`` - the moving shapes drawn over it: ``orb``, ``ring``, ``square``, ``triangle``, ``sparkle`` (cycled over
  the shapes when more than one is given), or none;
* the grade and post effects: greyscale, contrast, saturation, colour balance, lift, posterize, ink outlines,
  halftone, glow, blur, scanlines, grain, flicker, vignette, letterbox bars, paper texture, venetian blinds, and a
  coarser canvas (pixel art, soft focus).

``look_for`` reads the prompt's ``visual_style`` first, then its ``lighting``, then its ``mood``; within one text the
first family of ``FAMILIES`` with a matching keyword wins (most distinctive first, the generic "cinematic/film" last,
so "cinematic watercolor" is a watercolour). Keywords match at the start of a word, so "dream" covers "dreamy" and
"dreamscape"; hyphens count as spaces. No match anywhere means ``DEFAULT``: the original interference field with
orbs. The keywords cover what the offline planner writes (``providers.offline.vocab.STYLES`` and its lighting and
mood phrases)
and the usual words people type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from core.contracts import ClipPrompt

Field = Literal["waves", "grid", "wash", "bands", "kaleido"]
Motif = Literal["orb", "ring", "square", "triangle", "sparkle"]


@dataclass(frozen=True)
class Look:
    name: str
    field: Field = "waves"
    motifs: tuple[Motif, ...] = ("orb",)
    stepped: bool = False  # the field in flat bands of the palette's own colours (cel shading, pixel art)
    soft_edges: float = 1.0  # shape edge width multiplier: < 1 crisp, > 1 bokeh
    halo: float = 0.5  # glowing ring around orbs and rings
    spin: float = 0.5  # turning speed of squares, triangles and sparkles
    canvas: int = 1  # draw on a canvas this many times smaller (pixel art, soft focus)
    nearest: bool = False  # upscale with nearest-neighbour (hard pixels) instead of bicubic
    grey: bool = False
    contrast: float = 1.0  # gain around ``pivot``
    pivot: float = 0.5  # the grey that contrast leaves alone: low for low-key looks, so shadows deepen, subjects stay
    saturation: float = 1.0
    balance: tuple[float, float, float] = (1.0, 1.0, 1.0)  # red, green, blue gains (warm film stock)
    lift: float = 0.0  # blacks raised towards white (faded film, haze)
    posterize: int = 0  # levels per channel; 0 = off
    outline: bool = False  # dark ink lines where the picture steps
    halftone: bool = False  # comic dots in the shadows
    glow: float = 0.0  # bloom of the bright parts
    soften: float = 0.0  # mix with a blurred copy
    scanlines: float = 0.0  # darkening of every other row
    grain: float = 0.0  # film grain amplitude
    flicker: float = 0.0  # frame-to-frame exposure jitter
    vignette: float = 0.35
    letterbox: bool = False  # 2.39:1 bars
    paper: bool = False  # watercolour paper texture
    blinds: bool = False  # venetian-blind light bars across the scene


DEFAULT = Look("default")

FAMILIES: tuple[tuple[Look, tuple[str, ...]], ...] = (
    (
        Look(
            "noir",
            grey=True,
            contrast=1.6,
            pivot=0.22,
            grain=0.02,
            vignette=0.6,
            blinds=True,
            soft_edges=4.0,
            halo=0.3,
        ),
        ("noir", "black and white", "black & white", "b&w", "monochrom", "grayscale", "greyscale"),
    ),
    (
        Look("pixel", stepped=True, motifs=("square",), soft_edges=0.05, spin=0.0, canvas=2, nearest=True, vignette=0),
        ("pixel", "8 bit", "16 bit", "8bit", "16bit", "retro game", "arcade", "chiptune", "voxel", "sprite"),
    ),
    (
        Look("toon", stepped=True, motifs=("sparkle", "orb"), halo=0.0, outline=True, halftone=True, vignette=0.0),
        ("anime", "cartoon", "comic", "manga", "cel shad", "toon", "clay", "ghibli", "pop art", "animat"),
    ),
    (
        Look("watercolor", field="wash", motifs=(), paper=True, vignette=0.1),
        ("watercol", "paint", "oil", "impressionis", "gouache", "acrylic", "brush"),
    ),
    (
        Look("psychedelic", field="kaleido", motifs=("ring",), saturation=1.4, contrast=1.1, vignette=0.5),
        ("psychedel", "kaleidoscop", "trippy", "acid", "fractal", "hallucin", "mandala"),
    ),
    (
        Look("synthwave", field="grid", motifs=("sparkle",), scanlines=0.3, vignette=0.3),
        ("synthwave", "retrowave", "retro futur", "outrun", "vaporwave", "cyber", "neon", "80s", "1980s", "vhs"),
    ),
    (
        Look("minimal", field="bands", motifs=("square", "triangle"), vignette=0.0),
        ("minimal", "geometr", "bauhaus", "flat", "graphic", "vector", "swiss", "mondrian", "memphis"),
    ),
    (
        Look("vintage", balance=(1.15, 1.0, 0.75), saturation=0.7, lift=0.1, grain=0.018, flicker=0.04, vignette=0.45),
        ("vintage", "retro", "70s", "60s", "1970s", "1960s", "sepia", "super 8", "nostalgi", "old film", "grainy"),
    ),
    (
        Look("dreamy", soft_edges=3.0, halo=0.2, canvas=2, lift=0.12, saturation=0.85, soften=0.6, glow=0.25),
        ("dream", "ethereal", "surreal", "hazy", "haze", "soft", "diffus", "fantasy", "fairy", "heaven", "bokeh"),
    ),
    (
        Look("cinematic", contrast=1.1, saturation=0.9, grain=0.015, vignette=0.45, letterbox=True),
        ("cinema", "film", "movie", "documentary", "anamorphic", "widescreen", "35mm", "epic", "blockbuster"),
    ),
)

LOOKS: dict[str, Look] = {DEFAULT.name: DEFAULT} | {look.name: look for look, _ in FAMILIES}

_PATTERNS = tuple(
    (look, re.compile("|".join(rf"(?<![a-z0-9]){re.escape(k)}" for k in keywords))) for look, keywords in FAMILIES
)


def look_for(visual_style: str, lighting: str = "", mood: str = "") -> Look:
    """The look for these words: the first family matching ``visual_style``, else ``lighting``, else ``mood``."""
    for text in (visual_style, lighting, mood):
        norm = re.sub(r"[-_/]+", " ", text.lower())
        for look, pattern in _PATTERNS:
            if pattern.search(norm):
                return look
    return DEFAULT


def look_of(prompt: ClipPrompt) -> Look:
    return look_for(prompt.visual_style, prompt.lighting, prompt.mood)
