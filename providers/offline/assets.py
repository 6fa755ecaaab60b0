"""Drawable assets for the offline renderer: a curated catalogue of open icons, matched to a prompt's words.

``assets/icons.json`` holds 171 icons as SVG path data (built by ``assets/curate.py``): colour emoji from Noto Emoji
(Apache-2.0) and silhouettes from game-icons.net (CC BY 3.0); see ``assets/ATTRIBUTION.md``. Each entry carries the
words that call it up (its id, its source name's words and curated aliases), where a scene stands it (``ground``,
``water``, ``sky``) and its height as a fraction of the frame.

``match`` turns prompt text into asset ids: words are lower-cased, split, and tried as they are, then with a plural
or verb ending removed, against the tags; two-word tags ("ice cream", "old woman") are tried on word pairs first.
``raster`` draws an asset once with resvg into an RGBA array at the size a clip needs.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import resvg_py
from numpy.typing import NDArray
from PIL import Image

ASSET_DIR = Path(__file__).with_name("assets")
Place = Literal["ground", "water", "sky"]

# Words that would match a tag but name no subject in a prompt ("the light of", "a drive through").
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "by",
        "with",
        "and",
        "or",
        "under",
        "over",
        "into",
        "onto",
        "from",
        "for",
        "its",
        "his",
        "her",
        "their",
    ]
)


@dataclass(frozen=True)
class Asset:
    id: str
    set: str  # "noto" or "game-icons"
    icon: str  # the name in its set
    size: int  # viewBox side
    place: Place
    height: float  # fraction of the frame height
    colour: bool  # True: a colour emoji; False: a one-colour silhouette, tinted by the scene
    tags: tuple[str, ...]
    body: str


@cache
def catalogue() -> dict[str, Asset]:
    raw = json.loads((ASSET_DIR / "icons.json").read_text())
    return {k: Asset(id=k, **{**v, "tags": tuple(v["tags"])}) for k, v in raw.items()}


@cache
def _index() -> dict[str, str]:
    """tag -> asset id; an asset's own id wins over another's alias, then the first asset listed."""
    index: dict[str, str] = {}
    assets = catalogue()
    for a in assets.values():
        index.setdefault(a.id.replace("_", " "), a.id)
    for a in assets.values():
        for tag in a.tags:
            index.setdefault(tag, a.id)
    return index


def _stems(word: str) -> list[str]:
    out = [word]
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ers", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z-]*", text.lower().replace("'s", ""))


def match(text: str, *, limit: int = 4, verbs: frozenset[str] = frozenset()) -> list[str]:
    """Asset ids named by ``text``, in the order they appear, at most ``limit``.

    ``verbs``: words that name a subject only when nothing has been named yet ("dancing in the rain" calls a
    dancer; "a cat running" is a cat that runs, not a cat and a runner). A plural that is not a tag of its own
    ("violinists", "cats") calls its asset twice, so a crowd is not drawn as one; a repeat of what is already
    named, of a named compound's last word ("the boat" after "a paper boat"), or of the instrument a named
    player holds (``icon`` "man-standing+violin"), calls nothing new."""
    index = _index()
    words = words_of(text)
    found: list[str] = []
    heads: set[str] = set()  # last words of the compounds already named
    i = 0
    while i < len(words) and len(found) < limit:
        pair = f"{words[i]} {words[i + 1]}" if i + 1 < len(words) else ""
        hit = index.get(pair) or index.get(pair.replace(" ", "")) if pair else None
        step, plural = (2, False) if hit else (1, False)
        if hit is None and words[i] not in _STOP and words[i] not in heads and not (found and words[i] in verbs):
            stems = _stems(words[i])
            hit = next((index[s] for s in stems if s in index), None)
            plural = (
                hit is not None
                and words[i].endswith("s")
                and not words[i].endswith("ss")
                and any(index.get(s) == hit for s in stems[1:])
            )
        held = {catalogue()[f].icon.partition("+")[2] for f in found}  # a player's instrument is drawn already
        if hit is not None and hit not in found and catalogue()[hit].icon not in held:
            found.extend([hit, hit] if plural and len(found) + 2 <= limit else [hit])
            if step == 2:
                heads.add(words[i + 1])
        i += step
    return found


def raster(asset: Asset, height_px: int) -> NDArray[np.float32]:
    """The asset drawn ``height_px`` tall (square), as (4, h, w) float32 planes: R, G, B premultiplied, alpha."""
    return _raster(asset.id, max(4, height_px)).copy()


@cache
def _raster(asset_id: str, px: int) -> NDArray[np.float32]:
    a = catalogue()[asset_id]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" '
        f'viewBox="0 0 {a.size} {a.size}">{a.body}</svg>'
    )
    png = resvg_py.svg_to_bytes(svg_string=svg, width=px, height=px)
    with Image.open(io.BytesIO(bytes(png))) as img:
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
    planes = np.ascontiguousarray(rgba.transpose(2, 0, 1))
    planes[:3] *= planes[3:4]  # premultiplied: compositing is then one multiply-add
    return planes
