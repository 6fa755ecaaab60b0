"""Offline procedural clip renderer: stands in for a video AI model.

A clip is drawn with numpy at a low internal resolution (cheap: a few ms a frame) and piped to ffmpeg, which
upscales it and encodes H.264. Everything visible comes from the prompt:

* prompt text  -> a scene (``providers.offline.scene``): the place and time of day as a backdrop in parallax layers,
  the weather, and the subjects and objects it names as drawable assets (``providers.offline.assets``), moving
  along its action,
* visual style -> a ``Look`` (``providers.offline.looks``) applied to the scene: its field laid over the backdrop
  (the synthwave grid, the watercolour wash, ...), a few of its motifs, its grade and post effects,
* palette      -> the scene's colours, a colour look-up table for the field and the motifs' colours,
* camera       -> a pan of the layers (with parallax) or a zoom/tilt of the frame, and the field's transform,
* motion/energy-> speed of the field, the subjects' travel, bob and hop,
* beats        -> accents that follow the music without strobing: a smooth envelope (full on downbeats, half on other
  beats) drives a zoom punch and the subjects' hop, and a brightness gain whose strength follows energy and mood
  (none when calm) and whose frame-to-frame change is capped at ``MAX_PULSE_STEP``,
* reference    -> the style image sampled through the camera, blended in as a texture layer,
* seed/scene   -> every random choice, so the same prompt renders the same pixels.

Images are planar, (channels, height, width) float32: per-pixel weights then broadcast along whole rows, which numpy
does several times faster than along a trailing axis of 3, and ffmpeg takes the planes as they are (``gbrp``).
Greyscale looks carry one channel. The camera only scales and shifts, so world x depends on the column alone and
world y on the row alone: fields built from them are sums of a row vector and a column vector.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from core.contracts import ClipPrompt
from core.media import run_ffmpeg
from core.settings import RenderSettings
from core.timeline import output_size
from providers.offline.looks import Look, look_of
from providers.offline.scene import Built, build, compose, read_scene

F32 = NDArray[np.float32]
U8 = NDArray[np.uint8]

# Internal canvas (16:9; the other formats from core.timeline's one home): small enough that numpy stays well
# below the encoder's cost.
_CANVAS = RenderSettings(width=320, height=180)
_PULSE_ATTACK = 0.06  # seconds: an accent rises over ~2 frames instead of jumping
_PULSE_DECAY = 0.18  # seconds: and fades over ~half a second
# Largest frame-to-frame change of the beat's brightness gain. A gain step g changes the mean luminance by at most
# g x the mean (<= g of full scale): 0.02 keeps beat accents at a fifth of WCAG 2.3.1's 10 % flash.
MAX_PULSE_STEP = 0.02
_CALM = (
    "calm",
    "gentle",
    "serene",
    "peace",
    "tender",
    "soft",
    "quiet",
    "melanchol",
    "sad",
    "wistful",
    "dream",
    "nostalg",
    "lullaby",
    "waltz",
    "romantic",
    "mellow",
    "slow",
    "reflect",
    "lonely",
    "somber",
    "sombre",
)
# How the look's own field lies over the scene: (mode, weight).
_FIELD_BLEND = {
    "waves": ("mix", 0.12),
    "grid": ("screen", 0.6),
    "wash": ("multiply", 0.8),
    "bands": ("mix", 0.2),
    "kaleido": ("mix", 0.3),
}
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_LETTERBOX = 2.39  # width / height of the picture between the bars
_GRAIN_FRAMES = 8  # grain cycles through this many precomputed noise frames
# Each grain frame is held for two output frames (15 fps at 30, near film's 24): new noise on every frame is what
# x264 spends most on (noir at 0.045 per frame: 50.6 MB/min; held, at 0.02: 24.8; no grain: 15.3)
_GRAIN_HOLD = 2
_BAYER = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], dtype=np.float32) / 16 - 0.5


@dataclass(frozen=True)
class _Shapes:
    centre: F32  # (n, 2) orbit centres, world units
    orbit: F32  # (n, 2) orbit radii
    freq: F32  # (n,) angular speed, rad/s
    phase: F32  # (n,)
    radius: F32  # (n,)
    colour: F32  # (n, C), 0-1, brightened to stand out from the field
    ink: F32  # (n, 3), the palette colour itself (watercolour pigment)


@dataclass(frozen=True)
class _Setup:
    """Everything fixed for one clip; ``frame_planes`` draws a frame from it."""

    prompt: ClipPrompt
    look: Look
    xs: F32  # (W,) world x of each column before the camera
    ys: F32  # (H,) world y of each row
    speed: float
    params: F32  # (12,) field parameters
    lut: F32  # (C, 256)
    colours: F32  # (k, 3) the palette
    tones: F32  # (k, 3) the palette sorted dark to bright
    shapes: _Shapes
    texture: F32 | None  # (C, 2H, 2W)
    beats: F32
    gain: F32  # (frames,) the beat accent's brightness gain, rate-limited by MAX_PULSE_STEP
    hop: F32  # (frames,) the beat envelope 0-1, for motion accents (zoom punch, subjects' hop)
    scene: Built
    grade: tuple[F32, F32] | None  # colour matrix (C, C) and offset (C,): saturation, balance, contrast, lift
    mask: F32  # (H, W) static multiplier: vignette, letterbox, scanlines, paper
    grain: F32 | None  # (_GRAIN_FRAMES, H, W)
    flicker: F32 | None  # (frames,) exposure gain
    dither: NDArray[np.int32] | None  # (H, W) ordered-dither offsets of the LUT index
    halftone: F32 | None  # (H, W) dot screen, in luminance units
    polar: tuple[F32, F32, F32] | None  # (H, W) radius, cos and sin of 8 x the angle of each pixel (kaleidoscope)
    field_cache: dict[str, F32] = field(default_factory=dict)  # the last field drawn (see frame_planes)

    @property
    def size(self) -> tuple[int, int]:
        return len(self.xs), len(self.ys)


@dataclass
class RawClip:
    """A clip's frames as the renderer streams them to ffmpeg: raw planes at the canvas size, one ``write``."""

    setup: _Setup
    frames: int
    fps: int

    @property
    def size(self) -> tuple[int, int]:
        return self.setup.size

    @property
    def pix_fmt(self) -> str:
        return "gray" if self.setup.look.grey else "gbrp"

    @property
    def scale_flags(self) -> str:
        """How ffmpeg scales the small canvas up: hard pixels for the pixel looks, bicubic otherwise."""
        return "neighbor" if self.setup.look.nearest else "bicubic"

    @property
    def assets(self) -> list[str]:
        return list(self.setup.scene.scene.assets)

    def write(self, sink: IO[bytes]) -> None:
        grey = self.setup.look.grey
        for n in range(self.frames):
            planes = frame_planes(self.setup, n, n / self.fps)
            sink.write((planes if grey else planes[[1, 2, 0]]).tobytes())  # gbrp: G, B, R planes


def raw_clip(
    prompt: ClipPrompt, *, frames: int, fps: int, beats: Sequence[float] = (), reference: Path | None = None
) -> RawClip:
    """The ``frames`` frames of ``prompt`` at ``fps``, pulsing on ``beats`` (seconds from the first frame)."""
    return RawClip(prepare(prompt, beats=beats, reference=reference, frames=frames, fps=fps), frames, fps)


def render_clip(
    prompt: ClipPrompt,
    out: Path,
    *,
    duration: float,
    beats: Sequence[float] = (),
    reference: Path | None = None,
    width: int = 1280,
    height: int = 720,
    fps: int = 24,
    preset: str = "ultrafast",
) -> list[str]:
    """Write an H.264 (yuv420p) MP4 of exactly ``round(duration * fps)`` frames for ``prompt``, pulsing on
    ``beats`` (seconds from the clip's start), as a hosted model returns one. Returns the ids of the assets drawn
    (``providers.offline.assets``). The offline model itself renders into the conformed pieces instead
    (``core.compose.conform_frames``: one encode)."""
    raw = raw_clip(prompt, frames=max(1, round(duration * fps)), fps=fps, beats=beats, reference=reference)
    w, h = raw.size
    out.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        [
            *("-f", "rawvideo", "-pix_fmt", raw.pix_fmt, "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0"),
            *("-vf", f"scale={width}:{height}:flags={raw.scale_flags},format=yuv420p"),
            *("-c:v", "libx264", "-preset", preset, "-crf", "20", "-pix_fmt", "yuv420p"),
            *("-frames:v", str(raw.frames), "-r", str(fps), "-movflags", "+faststart", str(out)),
        ],
        what=f"render of clip {prompt.index}",
        writer=raw.write,
    )
    return raw.assets


def prepare(
    prompt: ClipPrompt, *, beats: Sequence[float] = (), reference: Path | None = None, frames: int = 1, fps: int = 24
) -> _Setup:
    """Draw every random choice and precompute the look's static layers for a clip of ``frames`` frames."""
    look = look_of(prompt)
    rng = np.random.default_rng([prompt.seed, zlib.crc32(prompt.scene_id.encode())])
    # The look's own noise has a separate stream, so shapes and field are the same whatever the look.
    look_rng = np.random.default_rng([prompt.seed, zlib.crc32(prompt.scene_id.encode()), 1])
    w, h = (side // look.canvas for side in output_size(prompt.aspect, _CANVAS))
    cols = _hex_colours(prompt.palette)
    lut = _palette_lut(cols, stepped=look.stepped)
    shapes = _make_shapes(rng, prompt, lut)
    field_params = rng.uniform(0.0, 1.0, size=12).astype(np.float32)
    texture = _load_texture(reference, w, h) if reference is not None else None
    if look.grey:
        lut = lut @ _LUMA
        shapes = replace(shapes, colour=shapes.colour @ _LUMA[:, None])
        texture = texture @ _LUMA if texture is not None else None
    xs = np.linspace(-w / h, w / h, w, dtype=np.float32)  # world units: the frame's height spans 2
    ys = np.linspace(-1.0, 1.0, h, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    beat_times = np.asarray(sorted(b for b in beats if b >= 0), dtype=np.float32)
    hop = _envelope(beat_times, frames, fps)
    tones = cols[np.argsort(cols @ _LUMA)]
    scene_rng = np.random.default_rng([prompt.seed, zlib.crc32(prompt.scene_id.encode()), 3])
    return _Setup(
        prompt=prompt,
        look=look,
        xs=xs,
        ys=ys,
        speed=0.25 + 1.5 * prompt.motion_intensity * (0.6 + 0.8 * prompt.energy),
        params=field_params,
        lut=np.ascontiguousarray(lut.reshape(256, -1).T),
        colours=cols,
        tones=tones,
        shapes=shapes,
        texture=_planes(texture) if texture is not None else None,
        beats=beat_times,
        gain=_gain(hop, accent_strength(prompt)),
        hop=hop,
        scene=build(read_scene(prompt), prompt, tones, w, h, scene_rng),
        grade=_grade(look),
        mask=_static_mask(look, gx, gy, look_rng),
        grain=(look_rng.standard_normal((_GRAIN_FRAMES, h, w)) * look.grain).astype(np.float32) if look.grain else None,
        flicker=(1.0 + look.flicker * look_rng.standard_normal(frames)).astype(np.float32) if look.flicker else None,
        dither=(
            (np.tile(_BAYER, (h // 4 + 1, w // 4 + 1))[:h, :w] * (0.5 * 256 / len(cols))).astype(np.int32)
            if look.nearest and look.stepped
            else None
        ),
        # Dot screen, pre-scaled so that ink falls where it exceeds the luminance: dots grow in the shadows.
        halftone=((np.cos(gx * 110.0) * np.cos(gy * 110.0) + 0.6) / 4).astype(np.float32) if look.halftone else None,
        polar=_polar(gx, gy) if look.field == "kaleido" else None,
    )


def frame_planes(s: _Setup, n: int, t: float) -> U8:
    """Frame ``n`` (at ``t`` seconds) as (C, H, W) uint8 planes: C is 3 (RGB), or 1 for greyscale looks."""
    hop = float(s.hop[min(n, len(s.hop) - 1)])
    scale, dx, dy = _camera(s.prompt.camera.movement, t, s.speed)
    scale *= 1.0 - 0.03 * hop * s.prompt.energy  # a zoom punch on the beat, as strong as the music
    # The scene is drawn to fill the frame: a pan's fixed 0.9 framing (margin for the field) is not a zoom for it.
    scene_scale = scale / 0.9 if s.prompt.camera.movement.startswith(("pan", "tilt")) else scale
    st = s.speed * t
    xs = s.xs * np.float32(scale) + np.float32(dx)
    ys = s.ys * np.float32(scale) + np.float32(dy)
    w, h = s.size
    img, cover = compose(s.scene, t, pan=dx * h / 2, hop=hop, energy=s.prompt.energy)
    if abs(scene_scale - 1.0) > 0.004 or dy:  # the camera's zoom and tilt: resample the scene around the centre
        ix = np.clip(((np.arange(w) - w / 2) * scene_scale + w / 2), 0, w - 1).astype(np.int32)
        iy = np.clip(((np.arange(h) - h / 2) * scene_scale + h / 2 + dy * h / 2), 0, h - 1).astype(np.int32)
        img = img.take(iy, axis=1).take(ix, axis=2)
        cover = cover.take(iy, axis=1).take(ix, axis=2)
    if s.look.grey:
        img = np.tensordot(_LUMA, img, axes=1)[None]
    if s.look.blinds:
        img *= _blinds(xs, ys)
    mode, weight = _FIELD_BLEND[s.look.field]
    # A faint field (mixed or glazed in) is drawn every other frame: at 12 fps under the scene nobody sees the
    # difference, and it is the costliest layer. The synthwave grid is bright and sharp: every frame.
    if mode == "screen" or n % 2 == 0 or s.field_cache.get("field") is None:
        s.field_cache["field"] = _field(s, xs, ys, scale, dx - dy, st)
    fld = s.field_cache["field"]
    # The look's field lies on the backdrop; the subjects stay in front of it (half as much over them).
    k = np.float32(weight) * (1.0 - 0.5 * np.minimum(cover, 1.0))
    if mode == "mix":
        img += (fld - img) * k
    elif mode == "screen":
        img = np.float32(1.0) - (np.float32(1.0) - img) * (np.float32(1.0) - fld * k).astype(np.float32)
    else:  # multiply: pigment glazed over the scene
        img *= 1.0 - k * (1.0 - fld)
    if s.texture is not None:
        th, tw = s.texture.shape[1:]
        ix = ((xs / (2 * xs[-1]) + 0.5) * (tw / 2) + tw / 4).astype(np.int32) % tw
        iy = ((ys / 2 + 0.5) * (th / 2) + th / 4).astype(np.int32) % th
        img = img * 0.7 + s.texture.take(iy, axis=1).take(ix, axis=2) * 0.3
    if s.look.motifs and s.look.field != "wash":
        _draw_shapes(img, s.look, s.shapes, xs, ys, st, scale, 0.0, alpha=0.35, limit=2)
    img *= s.gain[min(n, len(s.gain) - 1)]
    img = _post(s, img, n)
    out: U8 = (img * 255.0).clip(0, 255).astype(np.uint8)
    return out


def accent_strength(prompt: ClipPrompt) -> float:
    """Peak brightness gain of a beat accent: none below energy 0.3 or in a calm mood, up to 0.15 at full energy."""
    mood = f"{prompt.mood} {prompt.lighting}".lower()
    calm = any(word in mood for word in _CALM)
    return 0.15 * float(np.clip((prompt.energy - 0.3) / 0.6, 0.0, 1.0)) * (0.25 if calm else 1.0)


def _envelope(beats: F32, frames: int, fps: int) -> F32:
    """Per frame, the beat envelope: a smooth rise over ``_PULSE_ATTACK`` then an exponential fade; downbeats (every
    fourth beat, counting from the first) are full height, the others half."""
    t = np.arange(frames, dtype=np.float32) / fps
    env = np.zeros(frames, dtype=np.float32)
    for i, b in enumerate(beats):
        dt = t - b
        rise = np.clip(dt / _PULSE_ATTACK + 1.0, 0.0, 1.0)  # starts one attack before the beat: peak on the beat
        shape = np.where(dt < 0, rise * rise * (3 - 2 * rise), np.exp(-np.maximum(dt, 0) / _PULSE_DECAY))
        env = np.maximum(env, shape.astype(np.float32) * (1.0 if i % 4 == 0 else 0.5))
    return env


def _gain(env: F32, strength: float) -> F32:
    """1 + strength x envelope, with each frame's change limited to ``MAX_PULSE_STEP``."""
    target = 1.0 + strength * env
    gain = np.empty_like(target)
    g = 1.0
    for i, v in enumerate(target):
        g += float(np.clip(v - g, -MAX_PULSE_STEP, MAX_PULSE_STEP))
        gain[i] = g
    return gain


def _blinds(xs: F32, ys: F32) -> F32:
    """Low-key light: one patch of window light, barred by venetian blinds, fixed in the world."""
    bars = np.clip(np.sin(xs[None, :] * 16.0 + (ys[:, None] * 9.6 + 1.0)) * 3.0 + 1.5, 0.0, 1.0)
    patch = np.clip(1.3 - ((xs - 0.3) ** 2 / 1.5)[None, :] - (ys**2 / 0.5)[:, None], 0.0, 1.0)
    out: F32 = (0.45 + 0.55 * patch * (0.35 + 0.65 * bars)).astype(np.float32)
    return out


# --------------------------------------------------------------------------- set-up


def _hex_colours(palette: list[str]) -> F32:
    return np.array([[int(h[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] for h in palette], dtype=np.float32)


def _palette_lut(cols: F32, *, stepped: bool = False) -> F32:
    """(256, 3) table that walks through the palette and back, so the field wraps without seams.

    ``stepped``: flat bands of the palette's own colours instead (cel shading, pixel art)."""
    if stepped:
        banded: F32 = cols[np.arange(256) * len(cols) // 256]
        return banded
    stops = np.concatenate([cols, cols[:1]])
    pos = np.linspace(0.0, len(cols), 256, dtype=np.float32)
    i0 = np.floor(pos).astype(int).clip(0, len(cols) - 1)
    frac = (pos - i0)[:, None]
    lut: F32 = (stops[i0] * (1 - frac) + stops[i0 + 1] * frac).astype(np.float32)
    return lut


def _make_shapes(rng: np.random.Generator, prompt: ClipPrompt, lut: F32) -> _Shapes:
    n = 3 + round(9 * prompt.energy) + int(rng.integers(0, 3))
    size = 0.08 + 0.22 * (1.0 - prompt.energy) * rng.uniform(0.5, 1.0, n)
    ink = lut[rng.integers(0, 256, n)]
    return _Shapes(
        centre=rng.uniform([-1.4, -0.7], [1.4, 0.7], (n, 2)).astype(np.float32),
        orbit=rng.uniform(0.1, 0.6, (n, 2)).astype(np.float32),
        freq=(rng.uniform(0.4, 1.6, n) * rng.choice([-1.0, 1.0], n)).astype(np.float32),
        phase=rng.uniform(0.0, 2 * np.pi, n).astype(np.float32),
        radius=size.astype(np.float32),
        # Shapes take the palette's colours, brightened so they stand out from the field.
        colour=np.clip(ink * 1.25 + 0.12, 0.0, 1.0).astype(np.float32),
        ink=ink.astype(np.float32),
    )


def _load_texture(path: Path, w: int, h: int) -> F32:
    """The reference image at twice the canvas size, (2H, 2W, 3) 0-1 RGB; the camera samples it like the field."""
    with Image.open(path) as img:
        rgb = img.convert("RGB").resize((w * 2, h * 2), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.float32) / 255.0


def _planes(img: F32) -> F32:
    """(H, W, C) or (H, W) pixels as contiguous (C, H, W) planes."""
    planes: F32 = np.ascontiguousarray(img.reshape(*img.shape[:2], -1).transpose(2, 0, 1))
    return planes


def _polar(gx: F32, gy: F32) -> tuple[F32, F32, F32]:
    angle = np.arctan2(gy, gx)
    return np.sqrt(gx**2 + gy**2), np.cos(8 * angle), np.sin(8 * angle)


def _grade(look: Look) -> tuple[F32, F32] | None:
    """Saturation, colour balance, contrast and lift are all affine in colour: one (C, C) matrix and offset."""
    n = 1 if look.grey else 3
    m, b = np.eye(n), np.zeros(n)
    steps: list[tuple[NDArray[np.float64], NDArray[np.float64] | float]] = []
    if n == 3 and look.saturation != 1.0:
        steps.append((look.saturation * np.eye(3) + (1 - look.saturation) * np.outer(np.ones(3), _LUMA), 0.0))
    if n == 3 and look.balance != (1.0, 1.0, 1.0):
        steps.append((np.diag(look.balance), 0.0))
    if look.contrast != 1.0:
        steps.append((look.contrast * np.eye(n), look.pivot * (1 - look.contrast)))
    if look.lift:
        steps.append(((1 - look.lift) * np.eye(n), look.lift))
    for step, offset in steps:
        m, b = step @ m, step @ b + offset
    return (m.astype(np.float32), b.astype(np.float32)) if steps else None


def _static_mask(look: Look, gx: F32, gy: F32, rng: np.random.Generator) -> F32:
    """Vignette x letterbox bars x scanlines x paper texture: one multiply per frame for all of them."""
    h, w = gx.shape
    v = look.vignette
    floor = max(0.2, 1.0 - v * 11 / 7)  # 0.45 for the default 0.35
    mask: F32 = (1.0 - v * (gx**2 / gx[0, -1] ** 2 + gy**2)).clip(floor, 1.0).astype(np.float32)
    if look.scanlines:
        mask[1::2] *= 1.0 - look.scanlines
    if look.paper:
        fibres = rng.standard_normal((1, h, w)).astype(np.float32)
        blotches = _blur(rng.standard_normal((1, h, w)).astype(np.float32))
        mask *= (1.0 + 0.035 * fibres + 0.25 * blotches)[0]
    if look.letterbox:
        bar = round((h - w / _LETTERBOX) / 2)
        mask[:bar] = 0.0
        mask[h - bar :] = 0.0
    return mask


# --------------------------------------------------------------------------- per frame


def _camera(movement: str, t: float, speed: float) -> tuple[float, float, float]:
    """(scale, dx, dy) of the world window at time t; scale < 1 means zoomed in."""
    rate = 0.05 + 0.05 * speed
    if movement == "zoom_in":
        return 1.0 / (1.0 + rate * t), 0.0, 0.0
    if movement == "zoom_out":
        return 1.0 / (1.0 + rate * max(0.0, 6.0 - t)), 0.0, 0.0
    shift = 2.0 * rate * t
    return {
        "pan_left": (0.9, -shift, 0.0),
        "pan_right": (0.9, shift, 0.0),
        "tilt_up": (0.9, 0.0, -shift),
        "tilt_down": (0.9, 0.0, shift),
    }.get(movement, (1.0, 0.0, 0.0))


def _field(s: _Setup, xs: F32, ys: F32, scale: float, turn: float, st: float) -> F32:
    """The look's background, (C, H, W). ``turn`` (pan minus tilt) rotates the kaleidoscope."""
    match s.look.field:
        case "grid":
            return _grid(s, xs, ys, st)
        case "wash":
            return _wash(s, xs, ys, st)
        case "bands":
            return _bands(s, xs, ys, st)
        case "kaleido":
            return _kaleido(s, scale, turn, st)
    return _waves(s, xs, ys, st)


def _waves(s: _Setup, xs: F32, ys: F32, st: float) -> F32:
    """Interference of three travelling waves: smooth, organic, and different per seed."""
    p = s.params
    a = xs * (1.5 + 2.5 * p[0]) + (st * (0.8 + p[2]) + 6.3 * p[3])
    b = ys * (1.5 + 2.5 * p[4]) - (st * (0.6 + p[6]) - 6.3 * p[7])
    dist = np.sqrt(((xs - p[8] + 0.5) ** 2)[None, :] + ((ys - p[9] + 0.5) ** 2)[:, None])
    field = np.sin(a[None, :] + (ys * (2.0 * p[1] - 1.0))[:, None])
    field += np.sin(b[:, None] - (xs * (2.0 * p[5] - 1.0))[None, :])
    field += np.sin(dist * (4.0 + 4.0 * p[10]) - st * 1.3)
    idx = ((field + 3.0) * (255.0 / 6.0) + 40.0 * st * (0.2 + p[11])).astype(np.int32)
    if s.dither is not None:
        idx += s.dither
    img: F32 = s.lut.take(idx & 255, axis=1)
    return img


def _kaleido(s: _Setup, scale: float, turn: float, st: float) -> F32:
    """The wave field in polar coordinates with 8-fold mirror symmetry, turning; camera pans rotate it, zooms scale
    it."""
    assert s.polar is not None
    radius, cos8, sin8 = s.polar
    p = s.params
    r = radius * np.float32(scale)
    phi = 8.0 * (turn + st * 0.15)
    petals = cos8 * np.float32(np.cos(phi)) - sin8 * np.float32(np.sin(phi))  # cos(8 (angle + phi / 8))
    field = np.sin(r * (5.0 + 4.0 * p[0]) - st * (1.2 + p[2]))
    field += np.sin(petals * (2.0 + 2.0 * p[4]) + r * (2.0 + 3.0 * p[5]) + st * (0.6 + p[6]))
    field += np.sin(r * (petals * petals) * (4.0 + 4.0 * p[10]) - (st * 1.3 - 6.3 * p[7]))
    idx = ((field + 3.0) * (255.0 / 6.0) + 90.0 * st * (0.2 + p[11])).astype(np.int32)
    img: F32 = s.lut.take(idx & 255, axis=1)
    return img


def _bands(s: _Setup, xs: F32, ys: F32, st: float) -> F32:
    """Flat design: wide diagonal bands of the palette's colours sliding across, and one large disc drifting.

    Edges are anti-aliased: within a pixel of an edge the colour blends towards the one across it."""
    p, n = s.params, len(s.colours)
    px = float(xs[1] - xs[0])
    ang = float(np.pi * (0.15 + 0.7 * p[0]))
    k = 0.9 * n  # band-index units per world unit
    c = (xs * np.float32(np.cos(ang) * k) + np.float32(st * 0.12 * k))[None, :] + (ys * np.float32(np.sin(ang) * k))[
        :, None
    ]
    band = np.floor(c)
    ramp = np.clip((c - band) * np.float32(1.0 / (k * px)) + np.float32(1.0 - 1.0 / (k * px)), 0.0, 1.0)
    first = int(band.min())
    here = (band - first).astype(np.int32)
    cols = np.ascontiguousarray(s.colours[(np.arange(here.max() + 2) + first) % n].T)  # this frame's band colours
    a = cols.take(here, axis=1)
    img: F32 = a + (cols.take(here + 1, axis=1) - a) * ramp
    # The disc: the palette's brightest colour (darkest on a light picture), in its bounding box.
    cx = float(np.sin(st * 0.2 + 6.3 * p[1])) * 0.8
    cy = float(np.cos(st * 0.15 + 6.3 * p[2])) * 0.3
    rad = 0.45 + 0.2 * float(p[3])
    c0, c1 = np.searchsorted(xs, [cx - rad - px, cx + rad + px])
    r0, r1 = np.searchsorted(ys, [cy - rad - px, cy + rad + px])
    if c1 > c0 and r1 > r0:
        d = np.sqrt(((xs[c0:c1] - cx) ** 2)[None, :] + ((ys[r0:r1] - cy) ** 2)[:, None])
        alpha = np.clip((rad - d) / px + 0.5, 0.0, 1.0)
        disc = 0.35 * s.tones[-1] + np.array([0.63, 0.62, 0.58], dtype=np.float32)  # off-white, warmed by the palette
        box = img[:, r0:r1, c0:c1]
        box *= 1.0 - alpha
        box += disc[:, None, None] * alpha
    return img


def _wash(s: _Setup, xs: F32, ys: F32, st: float) -> F32:
    """Watercolour: pigment blobs glazed (multiplied) onto paper, darker where the wet edge dried.

    Drawn on a 2x smaller grid (it is all soft) and upsampled; the shapes' orbits and colours give the blobs."""
    xs = (xs[0::2] + xs[1::2]) * np.float32(0.5)
    ys = (ys[0::2] + ys[1::2]) * np.float32(0.5)
    sh = s.shapes
    wobble = 0.35 * np.sin((xs * 5.1)[None, :] + (ys * 2.3 + st * 0.4)[:, None])
    wobble *= np.sin((ys * 4.7)[:, None] - (xs * 1.9 + st * 0.3)[None, :])
    img = np.empty((3, len(ys), len(xs)), dtype=np.float32)
    img[:] = np.array([0.97, 0.95, 0.9], dtype=np.float32)[:, None, None]  # paper
    ang = sh.phase + sh.freq * np.float32(st * 0.35)
    for i in range(len(sh.radius)):
        cx = sh.centre[i, 0] + sh.orbit[i, 0] * np.cos(ang[i])
        cy = sh.centre[i, 1] + sh.orbit[i, 1] * np.sin(ang[i] * 1.3)
        rad = sh.radius[i] * 2.2 + 0.25
        reach = rad * 1.17  # wobble <= 0.35 widens a blob to sqrt(1.35) of its radius
        c0, c1 = np.searchsorted(xs, [cx - reach, cx + reach])
        r0, r1 = np.searchsorted(ys, [cy - reach, cy + reach])
        if c0 >= c1 or r0 >= r1:
            continue
        d2 = ((ys[r0:r1] - cy) ** 2)[:, None] + ((xs[c0:c1] - cx) ** 2)[None, :]
        a = np.clip((1.0 - d2 / (rad * rad) + wobble[r0:r1, c0:c1]) * 2.5, 0.0, 1.0)
        pigment = 0.5 * a + 1.2 * a * (1.0 - a)
        img[:, r0:r1, c0:c1] *= 1.0 - pigment * (1.0 - sh.ink[i])[:, None, None]
    return _double(img)


def _grid(s: _Setup, xs: F32, ys: F32, st: float) -> F32:
    """Synthwave: a sky gradient, a striped sun behind a mountain ridge, a glowing neon grid floor rushing at the
    camera. The seed places the horizon, the sun, the ridge and the grid's spacing."""
    p = s.params
    dark, horizon, bright = (c[:, None] for c in (s.tones[0], s.tones[-2], s.tones[-1]))
    neon = s.tones[np.argmax(s.tones.max(1) - s.tones.min(1))][:, None]
    px = float(xs[1] - xs[0])
    level = 0.05 + 0.15 * float(p[2])  # the horizon, world units below the centre
    ground = int(np.searchsorted(ys, level))
    img = np.empty((3, len(ys), len(xs)), dtype=np.float32)
    # Sky: dark at the top to the palette's glow at the horizon, one colour per row.
    k = np.clip((ys[:ground] - (level - 1.4)) / 1.4, 0.0, 1.0) ** 2
    img[:, :ground] = (dark * 0.35 * (1 - k) + horizon * k)[:, :, None]
    # The sun: a disc whose lower half is cut by bands that thicken towards the horizon.
    sx, rad = 0.9 * (float(p[0]) - 0.5), 0.42 + 0.2 * float(p[1])
    cy = level - 0.6 * rad
    c0, c1 = np.searchsorted(xs, [sx - rad, sx + rad])
    r0 = int(np.searchsorted(ys, cy - rad))
    if c1 > c0 and ground > r0:
        sy = (ys[r0:ground] - cy) / rad  # -1 top .. 1 bottom
        d = np.sqrt(((xs[c0:c1] - sx) ** 2)[None, :] + ((ys[r0:ground] - cy) ** 2)[:, None])
        cut = (sy > 0.05) & (((sy * 5.0 - st * 0.25) % 1.0) < sy * 0.55)
        alpha = np.clip((rad - d) / (1.5 * px), 0.0, 1.0) * ~cut[:, None]
        down = (sy + 1) / 2
        sun = bright * (1 - down) + np.clip(neon * 1.2, 0, 1) * down
        box = img[:, r0:ground, c0:c1]
        box *= 1 - alpha
        box += sun[:, :, None] * alpha
    # A mountain ridge on the horizon, dark, with a neon rim.
    top = int(np.searchsorted(ys, level - 0.2))
    ridge = level - 0.13 * np.abs(np.sin(xs * 2.1 + 6.3 * p[4])) - 0.07 * np.abs(np.sin(xs * 5.3 + 6.3 * p[5]))
    below_ridge = (ys[top:ground, None] - ridge[None, :]) / px
    rock = np.clip(below_ridge + 0.5, 0.0, 1.0)
    rim = np.clip(1.0 - np.abs(below_ridge - 0.5), 0.0, 1.0)
    band = img[:, top:ground]
    band *= 1 - rock
    band += (dark * 0.3)[:, :, None] * rock + neon[:, :, None] * rim
    # Floor: depth z = spacing / (y - horizon); lines at whole world units, anti-aliased by their width in pixels,
    # with a wide faint copy around each for the neon glow.
    spacing = 2.0 + 1.5 * float(p[3])
    below = ys[ground:] - level
    z = spacing / np.maximum(below, 1e-3)
    u = xs[None, :] * z[:, None]
    along = np.abs(u - np.rint(u)) / (z[:, None] * (px * 1.1))  # distance to the nearest line (not %: 40x slower)
    w = z + st * 1.2
    depth = np.abs(w - np.rint(w)) / (z * z * (px * 1.1 / spacing))
    near = np.minimum(along, depth[:, None])
    lines = np.clip(1.0 - near, 0.0, 1.0) + 0.3 * np.clip(1.0 - near / 6.0, 0.0, 1.0) ** 2
    lines *= np.clip((0.45 - z * px) / 0.3, 0.0, 1.0)[:, None]  # lines closer than a pixel blur into haze
    haze = np.exp(-below * 9.0)
    img[:, ground:] = (dark * 0.25 + horizon * haze)[:, :, None] + neon[:, :, None] * lines
    return img


def _draw_shapes(
    img: F32,
    look: Look,
    sh: _Shapes,
    xs: F32,
    ys: F32,
    st: float,
    scale: float,
    pulse: float,
    alpha: float = 1.0,
    limit: int = 99,
) -> None:
    """Draw the look's motifs (cycled over the shapes) in place, each only inside its bounding box, at ``alpha``
    (motifs are the look's accents over the scene, not its content)."""
    ang = sh.phase + sh.freq * np.float32(st)
    cx = sh.centre[:, 0] + sh.orbit[:, 0] * np.cos(ang)
    cy = sh.centre[:, 1] + sh.orbit[:, 1] * np.sin(ang * 1.3)
    radius = sh.radius * np.float32(1.0 + 0.25 * pulse)
    edge = (0.02 * scale + 1e-3) * look.soft_edges
    for i in range(min(len(radius), limit)):
        kind = look.motifs[i % len(look.motifs)]
        r = float(radius[i])
        if kind == "sparkle":
            r *= 0.8 + 0.4 * float(np.sin(ang[i] * 3.0))  # twinkle
        reach = r * 1.3 + 3 * edge
        c0, c1 = np.searchsorted(xs, [cx[i] - reach, cx[i] + reach])
        r0, r1 = np.searchsorted(ys, [cy[i] - reach, cy[i] + reach])
        if c0 >= c1 or r0 >= r1:
            continue
        ddx = xs[None, c0:c1] - cx[i]
        ddy = ys[r0:r1, None] - cy[i]
        box = img[:, r0:r1, c0:c1]  # a view: drawing into it draws into img
        col = sh.colour[i][:, None, None] * np.float32(alpha)
        if kind in ("orb", "ring"):
            d = np.sqrt(ddx**2 + ddy**2)
            halo = np.clip(1.0 - np.abs(d - r * 1.3) / (3 * edge), 0.0, 1.0) * look.halo if look.halo else 0.0
            if kind == "orb":
                a = np.clip((r - d) / edge, 0.0, 1.0)
                box *= 1.0 - a * np.float32(alpha)
                box += col * (a + halo)
            else:
                box += col * (np.clip(1.0 - np.abs(d - r) / (0.12 * r + edge), 0.0, 1.0) + halo)
            continue
        spin = float(ang[i]) * look.spin
        u = ddx * np.cos(spin) + ddy * np.sin(spin)
        v = ddy * np.cos(spin) - ddx * np.sin(spin)
        if kind == "sparkle":  # four-pointed star |u|^0.5 + |v|^0.5 <= r^0.5, with a bright core
            star = np.sqrt(np.abs(u)) + np.sqrt(np.abs(v))
            a = np.clip((np.sqrt(r) - star) / (0.25 * np.sqrt(edge)), 0.0, 1.0)
            a += np.clip(1.0 - (u**2 + v**2) / (0.1 * r * r), 0.0, 1.0)
            box += (0.5 * np.float32(alpha) + 0.5 * col) * a
            continue
        if kind == "square":
            dist = np.maximum(np.abs(u), np.abs(v)) - 0.8 * r
        else:  # triangle, point up
            dist = np.maximum(np.abs(u) * 0.866 + v * 0.5, -v) - 0.55 * r
        a = np.clip(-dist / edge, 0.0, 1.0)
        box *= 1.0 - a * np.float32(alpha)
        box += col * a


def _post(s: _Setup, img: F32, n: int) -> F32:
    """The look's grade and effects, then flicker, grain and the static mask."""
    look = s.look
    if s.grade is not None:
        m, b = s.grade
        img = np.tensordot(m, img, axes=1) + b[:, None, None]
    if look.posterize:
        img = np.round(np.clip(img, 0.0, 1.0) * (look.posterize - 1)) * np.float32(1 / (look.posterize - 1))
    if look.outline or s.halftone is not None:
        luma = np.tensordot(_LUMA, img, axes=1) if len(img) == 3 else img[0]
        keep = np.where(s.halftone > luma, np.float32(0.55), np.float32(1.0)) if s.halftone is not None else 1.0
        if look.outline:  # ink where brightness or hue (red - blue) steps by > 6 % of full scale, not on highlights
            planes = np.stack([luma, img[0] - img[-1]])
            edge = np.zeros(luma.shape, dtype=bool)
            edge[:, 1:] = (np.abs(np.diff(planes, axis=2)) > 0.06).any(axis=0)
            edge[1:] |= (np.abs(np.diff(planes, axis=1)) > 0.06).any(axis=0)
            edge &= luma < 0.95
            keep = np.where(edge, np.float32(0.15), keep)
        img *= keep
    if look.glow or look.soften:
        blurred = _blur(img)
        if look.soften:
            img += (blurred - img) * np.float32(look.soften)
        if look.glow:  # bloom: the blurred picture squared, so bright parts bleed and dark ones do not
            img += blurred * blurred * np.float32(look.glow)
    if s.flicker is not None:
        img *= s.flicker[min(n, len(s.flicker) - 1)]
    if s.grain is not None:
        img += s.grain[(n // _GRAIN_HOLD * 5) % _GRAIN_FRAMES]
    out: F32 = img * s.mask
    return out


def _half(img: F32) -> F32:
    """2x2 box average of (C, H, W) planes with even sides."""
    out: F32 = (img[:, 0::2, 0::2] + img[:, 1::2, 0::2] + img[:, 0::2, 1::2] + img[:, 1::2, 1::2]) * np.float32(0.25)
    return out


def _double(img: F32) -> F32:
    """2x linear upsampling, pixel centres aligned (each new pixel is 3/4 its parent plus 1/4 a neighbour)."""
    q = np.float32(0.25)
    rows = np.repeat(img, 2, axis=1)
    rows[:, 2::2] += (img[:, :-1] - img[:, 1:]) * q
    rows[:, 1:-1:2] += (img[:, 1:] - img[:, :-1]) * q
    out: F32 = np.repeat(rows, 2, axis=2)
    out[:, :, 2::2] += (rows[:, :, :-1] - rows[:, :, 1:]) * q
    out[:, :, 1:-1:2] += (rows[:, :, 1:] - rows[:, :, :-1]) * q
    return out


def _blur(img: F32) -> F32:
    """A soft blur of (C, H, W) planes: average down to 80 columns, smooth with [1 2 1]/4, interpolate back up."""
    levels = 0
    while img.shape[2] > 80 and img.shape[1] % 2 == 0 and img.shape[2] % 2 == 0:
        img, levels = _half(img), levels + 1
    pad = np.concatenate([img[:, :1], img, img[:, -1:]], axis=1)
    img = (pad[:, :-2] + 2 * pad[:, 1:-1] + pad[:, 2:]) * np.float32(0.25)
    pad = np.concatenate([img[:, :, :1], img, img[:, :, -1:]], axis=2)
    img = (pad[:, :, :-2] + 2 * pad[:, :, 1:-1] + pad[:, :, 2:]) * np.float32(0.25)
    for _ in range(levels):
        img = _double(img)
    return img
