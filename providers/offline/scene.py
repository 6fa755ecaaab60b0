"""What a clip shows: the prompt's place, time of day, weather, subjects and action, drawn in 2.5-D layers.

``read_scene`` reads the words of a ``ClipPrompt`` (its text, then lighting and mood for the time of day) into a
``Scene``. ``build`` draws everything static once per clip at the renderer's canvas size:

* the sky: a gradient for the time of day mixed with the palette, with stars, a moon or a sun;
* a far layer (parallax 0.3): a city skyline with lit windows, mountain ridges, a tree line, dunes or hills;
* a near layer (parallax 1): the ground of the place - a street, a road, water, sand and a boardwalk, grass, a floor;
* sprites: the matched assets (``providers.offline.assets``), scenery behind, subjects in front, each rasterised once;
* weather: a rain, snow or fog overlay.

``compose`` then draws a frame from them with cheap moves only: layer scrolls (the subject travels, the camera pans),
sprite bob, sway, hop and travel along the action, and beat hops that scale with the pulse.
Everything is (C, H, W) float32 planes, sprites and layers premultiplied RGBA.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from core.contracts import ClipPrompt
from providers.offline.assets import Asset, catalogue, match, raster, words_of

F32 = NDArray[np.float32]
Place = Literal["city", "road", "sea", "river", "beach", "forest", "field", "mountains", "desert", "room", "sky"]
TimeOfDay = Literal["night", "dusk", "day"]
Weather = Literal["clear", "rain", "snow", "fog"]
Action = Literal["still", "walk", "run", "dance", "float", "fly"]

_PLACES: tuple[tuple[Place, tuple[str, ...]], ...] = (
    (
        "room",
        (
            "room",
            "bedroom",
            "kitchen",
            "studio",
            "bar",
            "club",
            "cafe",
            "diner",
            "office",
            "apartment",
            "indoor",
            "hall",
            "ballroom",
            "stage",
            "theater",
            "theatre",
            "attic",
            "basement",
            "library",
        ),
    ),
    ("beach", ("beach", "boardwalk", "shore", "seaside", "coast", "pier", "sand", "surf", "bay", "promenade")),
    # a bridge spans water: a river scene, with the bridge drawn across it
    ("river", ("river", "stream", "canal", "creek", "lake", "pond", "brook", "riverbank", "bridge", "bridges")),
    ("sea", ("sea", "ocean", "harbour", "harbor", "waves", "island", "sailing", "port", "underwater")),
    (
        "road",
        (
            "road",
            "highway",
            "freeway",
            "motorway",
            "street race",
            "racing",
            "race",
            "drive",
            "driving",
            "route",
            "track",
            "speed",
            "motorbike",
            "motorcycle",
        ),
    ),
    (
        "city",
        (
            "city",
            "town",
            "street",
            "streets",
            "rooftop",
            "rooftops",
            "downtown",
            "skyline",
            "alley",
            "urban",
            "neon",
            "metropolis",
            "avenue",
            "square",
            "market",
            "tokyo",
            "paris",
            "york",
            "skyscraper",
        ),
    ),
    ("forest", ("forest", "woods", "woodland", "jungle", "grove", "willow", "willows", "trees", "park", "garden")),
    ("mountains", ("mountain", "mountains", "peak", "peaks", "alps", "valley", "cliff", "canyon", "hill", "hills")),
    ("desert", ("desert", "dune", "dunes", "sahara", "cactus", "wasteland", "savanna")),
    ("field", ("field", "meadow", "farm", "prairie", "countryside", "grass", "village", "orchard")),
    ("sky", ("sky", "clouds", "space", "stars", "heaven", "flying", "flight", "galaxy", "moon", "orbit")),
)
_TIMES: tuple[tuple[TimeOfDay, tuple[str, ...]], ...] = (
    (
        "night",
        (
            "night",
            "midnight",
            "neon",
            "moon",
            "moonlight",
            "moonlit",
            "stars",
            "starry",
            "dark",
            "nocturnal",
            "noir",
            "candlelight",
            "late",
        ),
    ),
    (
        "dusk",
        (
            "dusk",
            "sunset",
            "twilight",
            "evening",
            "dawn",
            "sunrise",
            "golden",
            "magic hour",
            "sundown",
            "giant sun",
            "setting",
        ),
    ),
    ("day", ("day", "sunny", "noon", "morning", "afternoon", "daylight", "bright", "sunlit", "summer")),
)
_WEATHER: tuple[tuple[Weather, tuple[str, ...]], ...] = (
    ("rain", ("rain", "rainy", "raining", "storm", "stormy", "drizzle", "downpour", "monsoon", "wet")),
    ("snow", ("snow", "snowy", "snowing", "blizzard", "winter", "frost", "snowfall")),
    ("fog", ("fog", "foggy", "mist", "misty", "haze", "hazy", "smoke", "smoky")),
)
_ACTIONS: tuple[tuple[Action, tuple[str, ...]], ...] = (
    (
        "run",
        (
            "run",
            "runs",
            "running",
            "race",
            "races",
            "racing",
            "speed",
            "speeding",
            "chase",
            "chasing",
            "rush",
            "rushing",
            "drive",
            "drives",
            "driving",
            "ride",
            "rides",
            "riding",
            "sprint",
            "flee",
            "fleeing",
        ),
    ),
    (
        "dance",
        (
            "dance",
            "dances",
            "dancing",
            "dancer",
            "dancers",
            "twirl",
            "spin",
            "spinning",
            "jump",
            "jumping",
            "party",
            "groove",
            "celebrate",
            "play",
            "plays",
            "playing",
            "violinists",
            "duel",
        ),
    ),
    ("fly", ("fly", "flies", "flying", "soar", "soaring", "glide", "gliding", "float in the sky")),
    (
        "float",
        (
            "float",
            "floats",
            "floating",
            "drift",
            "drifts",
            "drifting",
            "sail",
            "sails",
            "sailing",
            "row",
            "rowing",
            "swim",
            "swimming",
        ),
    ),
    ("walk", ("walk", "walks", "walking", "stroll", "strolling", "wander", "wandering", "cross", "crossing")),
)
# nouns in the action table ("violinists" play, so they dance) still name their subject
_VERBS = frozenset(w for _, words in _ACTIONS for w in words) - {"dancer", "dancers", "violinists"}
_SCENERY = frozenset(
    [
        "willow",
        "tree",
        "pine",
        "palm",
        "cactus",
        "bridge",
        "stone_bridge",
        "house",
        "castle",
        "tower",
        "lighthouse",
        "ferris_wheel",
        "carousel",
        "tent",
        "church",
        "windmill",
        "volcano",
        "pyramid",
        "island",
        "streetlight",
        "neon_sign",
        "bench",
    ]
)
_SUN_GIANT = ("giant sun", "huge sun", "big sun", "enormous sun", "sun")


@dataclass(frozen=True)
class Scene:
    place: Place
    time: TimeOfDay
    weather: Weather
    action: Action
    assets: tuple[str, ...]  # asset ids, as the prompt names them
    big_sun: bool = False
    rooftop: bool = False  # a city seen from a roof: a roof deck and parapet in front, no street
    on_bridge: bool = False  # the subjects stand on the bridge's deck, not on the bank beside it


def _first(text: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    padded = " " + " ".join(words_of(text)).replace("-", " ") + " "
    best: tuple[int, str] | None = None
    for name, keys in table:
        for key in keys:
            at = padded.find(f" {key} ")
            if at >= 0 and (best is None or at < best[0]):
                best = (at, name)
    return best[1] if best else None


def read_scene(prompt: ClipPrompt) -> Scene:
    """The scene a prompt names; missing parts come from the lighting and mood, then from the seed."""
    text = prompt.prompt
    rng = np.random.default_rng([prompt.seed, zlib.crc32(prompt.scene_id.encode()), 2])
    place = _first(text, _PLACES) or _first(prompt.scene_id.replace("_", " "), _PLACES)
    time = _first(text, _TIMES) or _first(f"{prompt.lighting} {prompt.mood}", _TIMES)
    weather = _first(text, _WEATHER) or "clear"
    action = _first(text, _ACTIONS) or _first(prompt.motion, _ACTIONS)
    # the camera sentence ("medium shot, eye level, camera pans left") directs the shot; it names no subject
    shot = prompt.camera.shot.lower()
    parts = [part for part in text.split(". ") if not part.strip().lower().startswith(shot)]
    # the clip's own sentences name its subjects; the keyword line (the whole request) only when they name none
    own = [part for part in parts if not part.strip().lower().startswith("keywords:")]
    assets = tuple(match(". ".join(own), verbs=_VERBS)) or tuple(match(". ".join(parts), verbs=_VERBS))
    if place is None:
        place = "city" if time == "night" else ("sea", "field", "mountains", "city")[int(rng.integers(0, 4))]
    if action is None:
        action = "walk" if prompt.motion_intensity > 0.6 else "still"
    low = " " + " ".join(words_of(text)) + " "
    return Scene(
        place=place,  # type: ignore[arg-type]
        time=(time or ("night", "dusk", "day")[int(rng.integers(0, 3))]),  # type: ignore[arg-type]
        weather=weather,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        assets=assets,
        big_sun=any(f" {k} " in low for k in _SUN_GIANT[:4]),
        rooftop=place == "city" and any(f" {k} " in low for k in ("rooftop", "rooftops", "roof", "roofs")),
        on_bridge=re.search(r" (?:on|onto|across|over) (?:an? |the )?(?:[a-z]+ ){0,2}bridge", low) is not None,
    )


# --------------------------------------------------------------------------- static layers


@dataclass
class _Sprite:
    asset: Asset
    rgba: F32  # (4, h, w) premultiplied
    x: float  # centre, canvas pixels
    base: float  # bottom edge (ground, water) or centre (sky), canvas pixels
    lead: bool  # a subject, not scenery
    phase: float
    travel: float  # pixels per second along x (subjects that move along the screen)
    rides: bool = False  # scenery that moves with the subjects (the bridge they stand on)


@dataclass
class Built:
    scene: Scene
    w: int
    h: int
    horizon: int
    sky: F32  # (3, h, w)
    far: F32  # (4, h, 3w): 2w of world, then its first w again
    near: F32  # (4, h, 3w)
    sprites: list[_Sprite] = field(default_factory=list)
    weather: F32 | None = None  # (1, 2h, w) streak or flake alpha, two equal halves, scrolled down
    weather_colour: F32 | None = None  # (3,)
    fog: F32 | None = None  # (1, h, 1) veil alpha per row
    scroll: float = 0.0  # pixels per second of the near layer (the camera follows a travelling subject)
    water: tuple[int, int] | None = None  # rows of water that shimmer


def _hex(colour: str) -> F32:
    return np.array([int(colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5)], dtype=np.float32)


def _mix(a: F32, b: F32, k: float) -> F32:
    out: F32 = (a * (1 - k) + b * k).astype(np.float32)
    return out


_SKY = {  # top, horizon
    "night": ("#05060f", "#1c2346"),
    "dusk": ("#2b1d52", "#ff8c5a"),
    "day": ("#4f9be0", "#d7ecf7"),
}
_LIGHT = {"night": 0.45, "dusk": 0.75, "day": 1.0}
_GROUND = {
    "city": "#2a2a33",
    "road": "#2b2b30",
    "sea": "#1d5a80",
    "river": "#2f6f8a",
    "beach": "#e3cc94",
    "forest": "#2f5e2c",
    "field": "#5f8f3a",
    "mountains": "#5b5e6b",
    "desert": "#d8a45a",
    "room": "#6b4a33",
    "sky": "#ffffff",
}
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def build(scene: Scene, prompt: ClipPrompt, tones: F32, w: int, h: int, rng: np.random.Generator) -> Built:
    """Every static layer and sprite of a clip at canvas size ``w`` x ``h``; ``tones`` the palette dark to bright."""
    horizon = int(h * {"sea": 0.55, "beach": 0.52, "river": 0.58, "sky": 0.92, "room": 0.72}.get(scene.place, 0.62))
    light = _LIGHT[scene.time]
    sky = _sky(scene, tones, w, h, horizon, rng)
    far = _far(scene, tones, sky, w, h, horizon, rng)
    near, water = _near(scene, tones, w, h, horizon, light, rng)
    far, near = (np.concatenate([lay, lay[:, :, :w]], axis=2) for lay in (far, near))
    built = Built(scene=scene, w=w, h=h, horizon=horizon, sky=sky, far=far, near=near, water=water)
    _weather(built, rng)
    _place_sprites(built, prompt, tones, light, rng)
    return built


def _sky(scene: Scene, tones: F32, w: int, h: int, horizon: int, rng: np.random.Generator) -> F32:
    top_hex, low_hex = _SKY[scene.time]
    if scene.place == "room":
        wall = _mix(_hex("#3b3040"), tones[len(tones) // 2], 0.35) * (0.5 + 0.5 * _LIGHT[scene.time])
        return np.broadcast_to(wall[:, None, None], (3, h, w)).astype(np.float32).copy()
    top = _mix(_hex(top_hex), tones[0], 0.35)
    low = _mix(_hex(low_hex), tones[-1] if scene.time != "night" else tones[1], 0.35)
    k = np.clip(np.arange(h, dtype=np.float32) / max(horizon, 1), 0.0, 1.0) ** 1.5
    sky: NDArray[np.floating[Any]] = (top[:, None] * (1 - k) + low[:, None] * k)[:, :, None] * np.ones(
        (1, 1, w), dtype=np.float32
    )
    gx = np.arange(w, dtype=np.float32)[None, :]
    gy = np.arange(h, dtype=np.float32)[:, None]
    if scene.time == "night":
        n = w * h // 90
        sx, sy = rng.integers(0, w, n), rng.integers(0, max(1, int(horizon * 0.8)), n)
        sky[:, sy, sx] = np.maximum(sky[:, sy, sx], rng.uniform(0.5, 1.0, n).astype(np.float32))
        cx, cy, r = w * 0.78, h * 0.2, h * 0.08
        d = np.sqrt((gx - cx) ** 2 + (gy - cy) ** 2)
        moon = np.clip(r - d + 0.5, 0.0, 1.0) * (1 - 0.35 * np.clip(r * 0.6 - np.abs(d - r * 0.3), 0, 1))
        glow = np.clip(1 - d / (r * 4), 0, 1) ** 2 * 0.25
        sky += (moon[None] * _hex("#f2f0dc")[:, None, None] * 0.9 + glow[None] * 0.6) * (1 - sky) * 1.0
    elif scene.place != "sky" or scene.time == "day":
        big = scene.big_sun
        cx = w * (0.5 if big else 0.25)
        cy = horizon - (h * 0.05 if big else h * (0.32 if scene.time == "day" else 0.12))
        r = h * (0.3 if big else 0.08)
        d = np.sqrt((gx - cx) ** 2 + (gy - cy) ** 2)
        sun = np.clip(r - d + 0.5, 0.0, 1.0)
        if big:  # the synthwave sun: bands cut across its lower half
            band = (gy - cy) / r
            sun = sun * ~((band > 0.1) & ((band * 6.0) % 1.0 < band * 0.5))
        glow = np.clip(1 - d / (r * 3.5), 0, 1) ** 2 * 0.5
        colour = _mix(_hex("#fff2b0" if scene.time == "day" else "#ffb347"), tones[-1], 0.3)
        sky = sky * (1 - sun[None]) + sun[None] * colour[:, None, None] + glow[None] * colour[:, None, None] * 0.5
        sky[:, horizon:] = sky[:, horizon - 1 : horizon]
    if scene.time != "night" and scene.place not in ("room",):
        for _ in range(3 if scene.time == "day" else 2):  # soft clouds
            cx, cy = rng.uniform(0, w), rng.uniform(h * 0.08, horizon * 0.6)
            rx, ry = rng.uniform(w * 0.08, w * 0.18), rng.uniform(h * 0.03, h * 0.06)
            a = np.clip(1 - ((gx - cx) / rx) ** 2 - ((gy - cy) / ry) ** 2, 0, 1) * 0.6
            sky = (
                sky * (1 - a[None]) + a[None] * _mix(_hex("#ffffff"), sky[:, int(cy), int(cx) % w], 0.3)[:, None, None]
            )
    out: F32 = np.clip(sky, 0.0, 1.0).astype(np.float32)
    return out


def _silhouette(heights: F32, h: int, colour: F32, alpha: float = 1.0) -> F32:
    """(4, h, W) premultiplied layer filled below the top edge ``heights`` (rows, per column)."""
    rows = np.arange(h, dtype=np.float32)[:, None]
    a = np.clip(rows - heights[None, :] + 0.5, 0.0, 1.0) * alpha
    layer = np.empty((4, h, len(heights)), dtype=np.float32)
    layer[:3] = colour[:, None, None] * a
    layer[3] = a
    return layer


def _far(scene: Scene, tones: F32, sky: F32, w: int, h: int, horizon: int, rng: np.random.Generator) -> F32:
    ww = 2 * w
    xs = np.arange(ww, dtype=np.float32)
    haze = sky[:, max(horizon - 1, 0), 0]
    dark = _mix(tones[0] * 0.5, haze, 0.25 if scene.time == "night" else 0.55)
    if scene.place == "room":  # a window onto the night or day, and a lamp's light on the wall
        layer = np.zeros((4, h, ww), dtype=np.float32)
        for x0 in (int(w * 0.2), int(w * 1.2)):
            y0, y1, x1 = int(h * 0.15), int(h * 0.5), x0 + int(w * 0.22)
            top, low = (_hex(c) for c in _SKY[scene.time])
            k = np.linspace(0, 1, y1 - y0, dtype=np.float32)[:, None]
            layer[:3, y0:y1, x0:x1] = (top[:, None] * (1 - k.T) + low[:, None] * k.T)[:, :, None]
            layer[3, y0:y1, x0:x1] = 1.0
            layer[:3, y0:y1, x0 + (x1 - x0) // 2 - 1 : x0 + (x1 - x0) // 2 + 1] = 0.15
            layer[:3, (y0 + y1) // 2, x0:x1] = 0.15
        return layer
    if scene.place in ("city", "road") or (scene.place == "river" and scene.time == "night"):
        heights = np.full(ww, float(horizon), dtype=np.float32)
        starts = np.zeros(ww, dtype=bool)
        x = 0
        while x < ww:
            bw = int(rng.integers(w // 20, w // 8))
            heights[x : x + bw] = horizon - rng.uniform(0.15, 0.5) * horizon
            starts[x] = True
            x += bw + int(rng.integers(0, 3))
        # lit windows: a grid of two-pixel panes inside each building, each lit at random (more at night)
        rows = np.arange(h)[:, None]
        col_in = np.arange(ww) - np.maximum.accumulate(np.where(starts, np.arange(ww), 0))
        lit = rng.random((h // 4 + 1, ww)) < (0.45 if scene.time == "night" else 0.08)
        windows = (
            (rows % 4 < 2)
            & (col_in % 3 == 2)[None, :]
            & (rows > heights[None, :] + 3)
            & (rows < horizon - 2)
            & lit[rows // 4, np.arange(ww)[None, :]]
        ).astype(np.float32)
        layer = _silhouette(heights, h, dark)
        glow = _mix(_hex("#ffd27a"), tones[-1], 0.5)
        layer[:3] += windows[None] * glow[:, None, None] * layer[3:4] * (0.9 if scene.time == "night" else 0.35)
        return layer
    if scene.place == "mountains" or scene.place == "sky":
        p = rng.uniform(0, 6.3, 3)
        kx = 2 * np.pi / ww
        ridge = horizon - h * (0.25 + 0.12 * np.sin(xs * kx * 2 + p[0]) + 0.06 * np.sin(xs * kx * 7 + p[1]))
        ridge -= h * 0.04 * np.abs(np.sin(xs * kx * 17 + p[2]))
        layer = _silhouette(ridge.astype(np.float32), h, _mix(dark, haze, 0.2))
        snow = np.clip(1 - (np.arange(h)[:, None] - ridge[None, :]) / (h * 0.06), 0, 1) * layer[3]
        layer[:3] = layer[:3] * (1 - snow * 0.7) + snow * 0.7 * 0.9
        return layer
    if scene.place == "desert":
        kx = 2 * np.pi / ww
        dunes = horizon - h * (0.08 + 0.05 * np.sin(xs * kx * 3 + rng.uniform(0, 6.3)))
        return _silhouette(dunes.astype(np.float32), h, _mix(_hex("#c98f4a"), haze, 0.4))
    if scene.place in ("forest", "field", "river"):
        kx = 2 * np.pi / ww
        tops = horizon - h * (0.06 + 0.03 * np.sin(xs * kx * 4 + rng.uniform(0, 6.3)))
        if scene.place != "field":  # a tree line: a triangle per tree
            spacing = max(4, w // 28)
            local = (xs % spacing) / spacing
            size = h * rng.uniform(0.1, 0.22, ww // spacing + 1)[(xs // spacing).astype(int)]
            tops = np.minimum(tops, horizon - size * (1 - np.abs(local - 0.5) * 2))
        green = _mix(_hex("#1f3d24"), haze, 0.35 if scene.time != "night" else 0.1)
        return _silhouette(tops.astype(np.float32), h, green)
    # sea, beach: a low far coast
    kx = 2 * np.pi / ww
    coast = horizon - h * (0.02 + 0.02 * np.sin(xs * kx * 2 + rng.uniform(0, 6.3)))
    return _silhouette(coast.astype(np.float32), h, _mix(dark, haze, 0.5), alpha=0.8)


def _near(
    scene: Scene, tones: F32, w: int, h: int, horizon: int, light: float, rng: np.random.Generator
) -> tuple[F32, tuple[int, int] | None]:
    ww = 2 * w
    base = _mix(_hex(_GROUND[scene.place]), tones[len(tones) // 2], 0.2) * (0.3 + 0.7 * light)
    layer = np.zeros((4, h, ww), dtype=np.float32)
    if scene.place == "sky":
        return layer, None
    rows = np.arange(h, dtype=np.float32)
    depth = np.clip((rows - horizon) / max(h - horizon, 1), 0.0, 1.0)[:, None]
    layer[:3, horizon:] = (base[:, None, None] * (0.55 + 0.45 * depth[horizon:]))[:, :, :1]
    layer[3, horizon:] = 1.0
    xs = np.arange(ww, dtype=np.float32)[None, :]
    water = None
    if scene.place in ("sea", "river", "beach"):
        w0, w1 = horizon, h if scene.place == "sea" else int(horizon + (h - horizon) * 0.55)
        if scene.place == "river":
            w0, w1 = int(horizon + (h - horizon) * 0.15), int(horizon + (h - horizon) * 0.75)
            bank = _mix(_hex("#3f6b30"), tones[0], 0.2) * (0.3 + 0.7 * light)
            layer[:3, horizon:w0] = bank[:, None, None]
            layer[:3, w1:] = bank[:, None, None] * 0.8
        sea = _mix(_hex(_GROUND["sea"]), tones[1], 0.3) * (0.3 + 0.7 * light)
        layer[:3, w0:w1] = sea[:, None, None] * (0.7 + 0.3 * depth[w0:w1])[None]
        water = (w0, w1)
        if scene.place == "beach":  # sand, then a boardwalk of planks in the foreground
            sand = _mix(_hex(_GROUND["beach"]), tones[-1], 0.15) * (0.3 + 0.7 * light)
            layer[:3, w1:] = sand[:, None, None]
            b0 = int(h * 0.86)
            wood = _mix(_hex("#8a5a32"), tones[0], 0.15) * (0.3 + 0.7 * light)
            plank = 0.85 + 0.15 * ((xs // 9) % 2)
            layer[:3, b0:] = wood[:, None, None] * plank[None]
            layer[:3, b0::4] *= 0.7
    elif scene.rooftop:
        # a flat roof in front (gravel, a lit parapet along its edge, a vent box), the skyline beyond and below it
        edge = horizon + max(2, (h - horizon) // 10)
        roof = _mix(np.array([0.32, 0.31, 0.33], dtype=np.float32), tones[0], 0.3) * (0.35 + 0.65 * light)
        grit = rng.uniform(0.88, 1.08, (1, h - edge, ww)).astype(np.float32)
        layer[:3, edge:] = roof[:, None, None] * grit * (0.8 + 0.2 * depth[edge:])[None]
        ledge = _mix(roof * 1.6, tones[-1], 0.3)
        layer[:3, horizon:edge] = ledge[:, None, None]
        x0, bw, bh = int(ww * 0.7), max(4, w // 9), max(4, (h - horizon) // 3)
        layer[:3, edge - bh // 2 : edge + bh // 2, x0 : x0 + bw] = (roof * 0.7)[:, None, None]
    elif scene.place in ("road", "city"):
        # a road in perspective: edges converge on a vanishing point; centre dashes (scrolled with the layer)
        vp = w / 2
        mid = 0.35 if scene.place == "road" else 0.2
        for x0 in (0, w):
            half = (rows[horizon:, None] - horizon) / max(h - horizon, 1) * w * mid + 1
            on = np.abs(xs[:, x0 : x0 + w] - x0 - vp) < half
            asphalt = np.array([0.16, 0.16, 0.19], dtype=np.float32) * (0.5 + 0.5 * light)
            layer[:3, horizon:, x0 : x0 + w] = np.where(
                on[None], asphalt[:, None, None], layer[:3, horizon:, x0 : x0 + w]
            )
            line = np.abs(np.abs(xs[:, x0 : x0 + w] - x0 - vp) - half * 0.96) < half * 0.03 + 0.5
            paint = _mix(_hex("#f0e6c8"), tones[-1], 0.4)
            layer[:3, horizon:, x0 : x0 + w] += line[None] * paint[:, None, None] * 0.8
        dash = ((rows[horizon:, None] - horizon) ** 0.5 % 3.0 < 1.2) & (
            np.abs(xs - w / 2 - (xs >= w) * w) < 0.6 + (rows[horizon:, None] - horizon) * 0.02
        )
        layer[:3, horizon:] += dash[None] * _hex("#ffe08a")[:, None, None] * 0.8
    elif scene.place in ("forest", "field", "desert", "mountains"):
        tuft = rng.uniform(0.85, 1.1, (1, h, ww)).astype(np.float32)
        layer[:3, horizon:] *= tuft[:, horizon:]
    elif scene.place == "room":
        layer[:3, horizon::3] *= 0.85  # floorboards
    return layer, water


# What falls: one drop per ``spacing`` canvas pixels, falling ``speed`` canvas pixels a second. Rain is few long
# streaks: they read as rain (short dense ones read as static) and cost x264 little, as a streak moving along its
# own length changes only at its ends. Dense 4-pixel rain doubled the demo's bits (see bench/compose.py's docstring).
_FALLING: dict[str, tuple[int, float]] = {"rain": (600, 60.0), "snow": (90, 14.0)}
_RAIN_LENGTH = 12


def _weather(b: Built, rng: np.random.Generator) -> None:
    w, h = b.w, b.h
    if b.scene.weather in _FALLING:
        tex = np.zeros((1, h, w), dtype=np.float32)
        n = w * h // _FALLING[b.scene.weather][0]
        xs, ys = rng.integers(0, w, n), rng.integers(0, h, n)
        if b.scene.weather == "rain":
            for k in range(_RAIN_LENGTH):  # slanting streaks, brightest at the head
                tex[0, (ys + k) % h, (xs + k // 4) % w] = 0.15 + 0.3 * k / _RAIN_LENGTH
        else:
            tex[0, ys, xs] = 0.9
            tex[0, (ys + 1) % h, xs] = 0.5
        b.weather = np.concatenate([tex, tex], axis=1)
        b.weather_colour = np.array([0.75, 0.8, 0.9] if b.scene.weather == "rain" else [1, 1, 1], dtype=np.float32)
    elif b.scene.weather == "fog":
        rows = np.arange(h, dtype=np.float32)
        b.fog = (0.15 + 0.45 * np.exp(-(((rows - b.horizon) / (h * 0.2)) ** 2)))[None, :, None].astype(np.float32)


def _place_sprites(b: Built, prompt: ClipPrompt, tones: F32, light: float, rng: np.random.Generator) -> None:
    assets = [catalogue()[a] for a in b.scene.assets]
    scenery = [a for a in assets if a.id in _SCENERY]
    leads = [a for a in assets if a.id not in _SCENERY]
    w, h = b.w, b.h
    travel = {"run": 1.0, "walk": 0.35}.get(b.scene.action, 0.0) * (0.5 + prompt.motion_intensity) * w * 0.12
    # A travelling subject stays near the middle while the world scrolls past it (a tracking shot).
    b.scroll = travel * 2.0 if leads else 0.0
    tint = _mix(np.ones(3, dtype=np.float32), tones[-1], 0.25) * (0.55 + 0.45 * light)
    ground = float(b.horizon + (h - b.horizon) * 0.55)
    if b.scene.place == "beach":
        ground = h * 0.94
    water_line = float(sum(b.water) / 2) if b.water else ground
    slots = {1: [0.5], 2: [0.36, 0.64], 3: [0.28, 0.52, 0.74], 4: [0.2, 0.4, 0.6, 0.8]}
    deck: float | None = None  # the row the subjects stand on when they are on a bridge
    for i, a in enumerate(scenery):
        if b.scene.on_bridge and deck is None and a.id in ("bridge", "stone_bridge"):
            # across the middle of the river, wide enough to stand on; its top edge is the deck
            sp = _sprite(a, w * 0.5, water_line + h * 0.08, h, tones, tint, b, lead=False, scale=1.7, rng=rng)
            sp.rides = True
            b.sprites.append(sp)
            cols = sp.rgba[3, :, sp.rgba.shape[2] // 2 - 2 : sp.rgba.shape[2] // 2 + 2].max(axis=1)
            deck = sp.base - sp.rgba.shape[1] + float(np.argmax(cols > 0.5)) + 1
            continue
        x = w * (0.18, 0.84, 0.5)[i % 3]
        b.sprites.append(_sprite(a, x, ground, h, tones, tint, b, lead=False, scale=1.25, rng=rng))
    for i, a in enumerate(leads):
        x = w * slots[len(leads)][i]
        base = water_line if a.place == "water" else ground
        if deck is not None and a.place == "ground":
            base, x = deck, w * (0.5 + (i - (len(leads) - 1) / 2) * 0.12)
        scale = 1.0 if i == 0 else 0.85
        if a.place == "ground" and len(leads) > 1 and i > 0:
            base = ground - (h - b.horizon) * 0.08  # a step behind the lead
        b.sprites.append(_sprite(a, x, base, h, tones, tint, b, lead=True, scale=scale, rng=rng))
    for sp in b.sprites:
        sp.travel = 0.0 if not sp.lead else 0.0


def _sprite(
    a: Asset,
    x: float,
    base: float,
    h: int,
    tones: F32,
    tint: F32,
    b: Built,
    *,
    lead: bool,
    scale: float,
    rng: np.random.Generator,
) -> _Sprite:
    px = max(6, round(a.height * h * scale * (1.15 if a.place != "sky" else 1.0)))
    rgba = raster(a, px)
    if a.place == "sky":
        base = h * rng.uniform(0.18, 0.35)
    if a.colour:
        rgba[:3] *= tint[:, None, None]
    else:  # a silhouette: dark against a light backdrop, lit against a dark one
        bg = float(b.sky[:, max(0, min(int(base) - px // 2, b.h - 1)), int(x) % b.w] @ _LUMA)
        ink = tones[0] * 0.45 if bg > 0.4 else _mix(tones[-1], np.ones(3, dtype=np.float32), 0.4)
        rgba[:3] = ink[:, None, None] * rgba[3:4]
    return _Sprite(asset=a, rgba=rgba, x=x, base=base, lead=lead, phase=float(rng.uniform(0, 6.3)), travel=0.0)


# --------------------------------------------------------------------------- per frame


def compose(b: Built, t: float, pan: float, hop: float, energy: float) -> tuple[F32, F32]:
    """The scene at ``t`` seconds as (3, H, W) and the subjects' coverage (1, H, W): ``pan`` the camera's
    horizontal offset in pixels, ``hop`` the beat envelope (0-1) that lifts the subjects."""
    w, h = b.w, b.h
    img = b.sky.copy()
    cover = np.zeros((1, h, w), dtype=np.float32)
    shift = b.scroll * t + pan
    for layer, par in ((b.far, 0.3), (b.near, 1.0)):
        o = int(round(shift * par)) % (2 * w)  # layers are 3w wide, the last w a copy of the first: a view
        lay = layer[:, :, o : o + w]
        img *= 1.0 - lay[3:4]
        img += lay[:3]
    if b.water is not None:  # shimmer: bright ripples sliding along the water
        w0, w1 = b.water
        rows = np.arange(w0, w1, dtype=np.float32)[:, None]
        xs = np.arange(w, dtype=np.float32)[None, :] + shift
        ripple = np.sin(xs * 0.21 + rows * 1.7 + t * 2.5) * np.sin(xs * 0.05 - t * 0.8 + rows * 0.3)
        img[:, w0:w1] *= 1.0 + 0.12 * np.clip(ripple, 0.0, 1.0)
    act = b.scene.action
    for sp in b.sprites:
        sh, sw = sp.rgba.shape[1:]
        # scenery stays in the world; subjects (and what they stand on) ride the camera
        x = sp.x + (0.0 if sp.lead or sp.rides else -shift * 0.6)
        y = sp.base
        sway = 0.0
        if sp.lead:
            rate = {"run": 9.0, "walk": 5.0, "dance": 4.0, "float": 1.2, "fly": 1.5, "still": 0.9}[act]
            amp = {"run": 0.04, "walk": 0.03, "dance": 0.06, "float": 0.03, "fly": 0.06, "still": 0.012}[act]
            y -= abs(np.sin(t * rate + sp.phase)) * amp * h if act in ("run", "walk") else 0.0
            y -= (np.sin(t * rate + sp.phase) * amp * h) if act not in ("run", "walk") else 0.0
            y -= hop * (0.02 + 0.05 * energy) * h
            sway = float(np.sin(t * rate * 0.5 + sp.phase)) * (0.06 if act == "dance" else 0.02) * w
            sway += float(np.sin(t * 0.31 + sp.phase)) * 0.05 * w * (act in ("float", "fly", "still"))
        elif sp.asset.place == "sky":
            sway = float(np.sin(t * 0.3 + sp.phase)) * 0.03 * w
        x = (x + sway) % (w * 2 if not (sp.lead or sp.rides) else 10**6)
        if not (sp.lead or sp.rides) and x > w + sw:
            x -= 2 * w
        top = int(round(y - sh / 2)) if sp.asset.place == "sky" else int(round(y - sh))
        left = int(round(x - sw / 2))
        _paste(img, sp.rgba, left, top, cover if sp.lead else None)
    if b.weather is not None and b.weather_colour is not None:
        speed = _FALLING[b.scene.weather][1]
        off = h - int(t * speed) % h  # the texture is 2h tall, its halves equal: a view that falls
        tex = b.weather[:, off : off + h]
        img *= 1.0 - tex
        img += tex * b.weather_colour[:, None, None]
        if b.scene.weather == "rain":
            img *= np.float32(0.92)
    if b.fog is not None:
        fogc = b.sky[:, b.horizon - 1, :1][:, :, None]
        img = img * (1 - b.fog) + fogc * b.fog + b.fog * 0.15
    return img, cover


def _paste(img: F32, rgba: F32, left: int, top: int, cover: F32 | None = None) -> None:
    """Premultiplied ``rgba`` over ``img`` with its top-left corner at (left, top), clipped to the canvas; its alpha
    is added to ``cover``."""
    h, w = img.shape[1:]
    sh, sw = rgba.shape[1:]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + sw, w), min(top + sh, h)
    if x1 <= x0 or y1 <= y0:
        return
    src = rgba[:, y0 - top : y1 - top, x0 - left : x1 - left]
    box = img[:, y0:y1, x0:x1]
    box *= 1.0 - src[3:4]
    box += src[:3]
    if cover is not None:
        cover[:, y0:y1, x0:x1] += src[3:4]
