"""The offline style reference (PRD module 5): a procedural PNG painted from the plan's palette and style."""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from core.contracts import Character, ReferenceImage, StyleInfo, VideoPlan
from core.errors import ProviderError
from core.hashing import seed_of
from core.reference import cache_key
from core.uris import to_uri
from providers.base import ReferenceGenerator


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def _lerp(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def paint_reference(style: StyleInfo, out: Path, *, seed: int, size: tuple[int, int] = (1024, 576)) -> Path:
    """Paint a gradient sky, layered hills and glowing orbs whose shapes follow the style words."""
    rng = random.Random(seed)
    w, h = size
    cols = [_rgb(c) for c in style.palette]
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    top, bottom = cols[0], cols[1]
    for y in range(h):
        draw.line([(0, y), (w, y)], fill=_lerp(top, bottom, y / (h - 1)))

    text = f"{style.visual_style} {style.mood} {style.lighting} {' '.join(style.keywords)}".lower()
    glow = Image.new("RGB", size)
    gd = ImageDraw.Draw(glow)
    for _ in range(5 + rng.randrange(6)):
        r = rng.randrange(h // 12, h // 4)
        x, y = rng.randrange(w), rng.randrange(h // 2)
        gd.ellipse([x - r, y - r, x + r, y + r], fill=cols[rng.randrange(2, len(cols))])
    img = Image.blend(img, glow.filter(ImageFilter.GaussianBlur(h // 10)), 0.55)
    draw = ImageDraw.Draw(img)

    # Geometry that reads as the style: grids for neon/cyber, stripes for retro, soft waves otherwise.
    if any(k in text for k in ("neon", "cyber", "synth", "vapor")):
        horizon = int(h * 0.62)
        for i in range(-12, 13):
            draw.line([(w / 2 + i * w / 24, horizon), (w / 2 + i * w / 3, h)], fill=cols[3], width=2)
        for j in range(1, 10):
            gy = horizon + (h - horizon) * (j / 10) ** 2
            draw.line([(0, gy), (w, gy)], fill=cols[3], width=2)
    elif any(k in text for k in ("retro", "vintage", "70s", "80s")):
        for i in range(5):
            y0 = int(h * 0.55) + i * h // 30
            draw.rectangle([0, y0, w, y0 + h // 45], fill=cols[(i + 1) % len(cols)])
    layers = 3 + rng.randrange(3)
    for k in range(layers):
        base = h * (0.55 + 0.12 * k)
        amp = h * (0.05 + 0.04 * rng.random())
        freq = 1.5 + 3 * rng.random()
        phase = rng.random() * math.tau
        pts = [(x, base + amp * math.sin(freq * x / w * math.tau + phase)) for x in range(0, w + 8, 8)]
        shade = _lerp(cols[k % len(cols)], (0, 0, 0), 0.3 + 0.15 * k)
        draw.polygon([*pts, (w, h), (0, h)], fill=shade)
    if "noir" in text or "black-and-white" in text:
        img = img.convert("L").convert("RGB")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.png")
    img.save(tmp, "PNG")
    tmp.replace(out)  # atomic: a half-written PNG never looks like a cached one
    return out


def paint_character(style: StyleInfo, character: Character, out: Path, *, seed: int, size: int = 512) -> Path:
    """A character sheet: the style's ground, softened, with the character's drawable asset large in the middle
    (a glowing disc in its palette colour when no asset matches its description)."""
    import numpy as np

    from providers.offline.assets import catalogue, match, raster

    ground = out.with_suffix(".ground.png")
    paint_reference(style, ground, seed=seed, size=(size, size))
    with Image.open(ground) as g:
        img = g.convert("RGB").filter(ImageFilter.GaussianBlur(size // 40))
    ground.unlink(missing_ok=True)
    found = match(f"{character.name} {character.description}", limit=1)
    if found:
        asset = catalogue()[found[0]]
        planes = raster(asset, int(size * 0.7))
        alpha = np.clip(planes[3], 0, 1)
        if asset.colour:  # un-premultiply the colour emoji
            rgb = np.clip(planes[:3] / np.maximum(alpha, 1e-4), 0, 1).transpose(1, 2, 0)
        else:  # a silhouette takes the palette's brightest colour, as in the clips
            tint = max((_rgb(c) for c in style.palette), key=sum)
            rgb = np.broadcast_to(np.array(tint, dtype=np.float32) / 255, (*alpha.shape, 3))
        sprite = Image.fromarray(np.dstack([rgb * 255, alpha[..., None] * 255]).astype(np.uint8))
        img.paste(sprite, ((size - sprite.width) // 2, (size - sprite.height) // 2), sprite)
    else:
        draw = ImageDraw.Draw(img)
        colour = _rgb(style.palette[seed % len(style.palette)])
        r = size // 4
        draw.ellipse([size // 2 - r, size // 2 - r, size // 2 + r, size // 2 + r], fill=colour)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.png")
    img.save(tmp, "PNG")
    tmp.replace(out)
    return out


class ProceduralReference(ReferenceGenerator):
    provider_id = "offline"
    model = "procedural-v1"
    code_modules = ("providers.offline.reference",)
    size = (1024, 576)

    def generate(self, plan: VideoPlan, *, description: str, out: Path) -> ReferenceImage:
        try:
            paint_reference(plan.style, out, seed=seed_of(description), size=self.size)
        except OSError as exc:
            raise ProviderError(f"cannot write reference image: {exc}", provider=self.provider_id) from exc
        return ReferenceImage(
            uri=to_uri(out),
            description=description,
            cache_key=cache_key(description, self.cache_identity()),
            palette=plan.style.palette,
            provider=self.provider_id,
            model=self.model,
            width=self.size[0],
            height=self.size[1],
            status="generated",
        )

    def generate_character(self, plan: VideoPlan, character: Character, *, description: str, out: Path) -> float:
        try:
            paint_character(plan.style, character, out, seed=seed_of(description))
        except OSError as exc:
            raise ProviderError(f"cannot write character reference: {exc}", provider=self.provider_id) from exc
        return 0.0
