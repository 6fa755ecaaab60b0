"""Offline procedural clip renderer: stands in for a video AI model.

A clip is drawn with numpy at a low internal resolution (cheap: a few ms a frame) and piped to ffmpeg, which
upscales it and encodes H.264. Everything visible comes from the prompt:

* palette      -> a colour look-up table for a flowing interference field and the shapes' colours,
* camera       -> a time-dependent transform of the world coordinates (zoom/pan/tilt without losing detail),
* motion/energy-> speed of the field and of the shapes, number and size of the shapes,
* beats        -> a brightness + zoom punch that decays over ~150 ms,
* reference    -> the style image sampled through the same camera, blended in as a texture layer,
* seed/scene   -> every random choice, so the same prompt renders the same pixels.
"""

from __future__ import annotations

import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from core.contracts import ClipPrompt
from core.errors import CompositionError
from core.media import ffmpeg_exe

F32 = NDArray[np.float32]

# Internal canvas: 16:9 and small enough that numpy stays well below the encoder's cost.
_CANVAS_W, _CANVAS_H = 320, 180
_PULSE_DECAY = 0.05  # seconds; exp(-0.15 / 0.05) ≈ 5 %: the punch is gone after ~150 ms
_PULSE_WINDOW = 0.15


@dataclass(frozen=True)
class _Shapes:
    centre: F32  # (n, 2) orbit centres, world units
    orbit: F32  # (n, 2) orbit radii
    freq: F32  # (n,) angular speed, rad/s
    phase: F32  # (n,)
    radius: F32  # (n,)
    colour: F32  # (n, 3), 0-1


def render_clip(
    prompt: ClipPrompt,
    out: Path,
    *,
    duration: float,
    reference: Path | None = None,
    width: int = 1280,
    height: int = 720,
    fps: int = 24,
    preset: str = "ultrafast",
) -> None:
    """Write an H.264 (yuv420p) MP4 of exactly ``round(duration * fps)`` frames for ``prompt``."""
    frames = max(1, round(duration * fps))
    rng = np.random.default_rng([prompt.seed, zlib.crc32(prompt.scene_id.encode())])
    lut = _palette_lut(prompt.palette)
    speed = 0.25 + 1.5 * prompt.motion_intensity * (0.6 + 0.8 * prompt.energy)
    shapes = _make_shapes(rng, prompt, lut)
    texture = _load_texture(reference) if reference is not None else None
    field_params = rng.uniform(0.0, 1.0, size=12).astype(np.float32)
    aspect = _CANVAS_W / _CANVAS_H
    gx, gy = np.meshgrid(
        np.linspace(-aspect, aspect, _CANVAS_W, dtype=np.float32),
        np.linspace(-1.0, 1.0, _CANVAS_H, dtype=np.float32),
    )
    vignette = (1.0 - 0.35 * (gx**2 / aspect**2 + gy**2)).clip(0.45, 1.0)[..., None]
    beats = np.asarray(sorted(b for b in prompt.beats if b >= 0), dtype=np.float32)

    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        *(ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"),
        *("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{_CANVAS_W}x{_CANVAS_H}", "-r", str(fps), "-i", "-"),
        *("-vf", f"scale={width}:{height}:flags=bicubic,format=yuv420p"),
        *("-c:v", "libx264", "-preset", preset, "-crf", "20", "-pix_fmt", "yuv420p"),
        *("-frames:v", str(frames), "-r", str(fps), "-movflags", "+faststart", str(out)),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for n in range(frames):
            t = n / fps
            pulse = _pulse(beats, t)
            frame = _draw(gx, gy, t, speed, pulse, prompt, field_params, lut, shapes, texture)
            proc.stdin.write((frame * vignette * 255.0).clip(0, 255).astype(np.uint8).tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg died: its stderr below says why
    err = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise CompositionError(f"render of clip {prompt.index} failed: {err.decode(errors='replace')[-300:]}")


def _palette_lut(palette: list[str]) -> F32:
    """256-entry RGB table that walks through the palette and back, so the field wraps without seams."""
    cols = np.array([[int(h[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] for h in palette], dtype=np.float32)
    stops = np.concatenate([cols, cols[:1]])
    pos = np.linspace(0.0, len(cols), 256, dtype=np.float32)
    i0 = np.floor(pos).astype(int).clip(0, len(cols) - 1)
    frac = (pos - i0)[:, None]
    lut: F32 = (stops[i0] * (1 - frac) + stops[i0 + 1] * frac).astype(np.float32)
    return lut


def _make_shapes(rng: np.random.Generator, prompt: ClipPrompt, lut: F32) -> _Shapes:
    n = 3 + round(9 * prompt.energy) + int(rng.integers(0, 3))
    size = 0.08 + 0.22 * (1.0 - prompt.energy) * rng.uniform(0.5, 1.0, n)
    # Shapes take the palette's colours, brightened so they stand out from the field.
    colour = np.clip(lut[rng.integers(0, 256, n)] * 1.25 + 0.12, 0.0, 1.0)
    return _Shapes(
        centre=rng.uniform([-1.4, -0.7], [1.4, 0.7], (n, 2)).astype(np.float32),
        orbit=rng.uniform(0.1, 0.6, (n, 2)).astype(np.float32),
        freq=(rng.uniform(0.4, 1.6, n) * rng.choice([-1.0, 1.0], n)).astype(np.float32),
        phase=rng.uniform(0.0, 2 * np.pi, n).astype(np.float32),
        radius=size.astype(np.float32),
        colour=colour.astype(np.float32),
    )


def _load_texture(path: Path) -> F32:
    """The reference image at twice the canvas size, 0-1 RGB; the camera samples it like the field."""
    with Image.open(path) as img:
        rgb = img.convert("RGB").resize((_CANVAS_W * 2, _CANVAS_H * 2), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.float32) / 255.0


def _pulse(beats: NDArray[np.float32], t: float) -> float:
    """1 on a beat, decaying to ~0 within 150 ms; 0 before the beat."""
    past = beats[(beats <= t + 1e-6) & (beats > t - _PULSE_WINDOW)]
    return float(np.exp(-(t - past.max()) / _PULSE_DECAY)) if past.size else 0.0


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


def _draw(
    gx: F32,
    gy: F32,
    t: float,
    speed: float,
    pulse: float,
    prompt: ClipPrompt,
    p: F32,
    lut: F32,
    shapes: _Shapes,
    texture: F32 | None,
) -> F32:
    scale, dx, dy = _camera(prompt.camera.movement, t, speed)
    scale *= 1.0 - 0.06 * pulse  # zoom punch on the beat
    x = gx * scale + dx
    y = gy * scale + dy
    st = speed * t
    # Interference of three travelling waves: smooth, organic, and different per seed.
    field = (
        np.sin(x * (1.5 + 2.5 * p[0]) + y * (2.0 * p[1] - 1.0) + st * (0.8 + p[2]) + 6.3 * p[3])
        + np.sin(y * (1.5 + 2.5 * p[4]) - x * (2.0 * p[5] - 1.0) - st * (0.6 + p[6]) + 6.3 * p[7])
        + np.sin(np.sqrt((x - p[8] + 0.5) ** 2 + (y - p[9] + 0.5) ** 2) * (4.0 + 4.0 * p[10]) - st * 1.3)
    )
    idx = ((field + 3.0) * (255.0 / 6.0) + 40.0 * st * (0.2 + p[11])).astype(np.int32) & 255
    img = lut[idx]
    if texture is not None:
        th, tw = texture.shape[:2]
        aspect = _CANVAS_W / _CANVAS_H
        ix = ((x / (2 * aspect) + 0.5) * (tw / 2) + tw / 4).astype(np.int32) % tw
        iy = ((y / 2 + 0.5) * (th / 2) + th / 4).astype(np.int32) % th
        img = img * 0.6 + texture[iy, ix] * 0.4
    ang = shapes.phase + shapes.freq * st
    cx = shapes.centre[:, 0] + shapes.orbit[:, 0] * np.cos(ang)
    cy = shapes.centre[:, 1] + shapes.orbit[:, 1] * np.sin(ang * 1.3)
    radius = shapes.radius * (1.0 + 0.25 * pulse)
    edge = 0.02 * scale + 1e-3
    # x and y are affine in the pixel index: draw each shape only inside its bounding box.
    xs, ys = x[0], y[:, 0]
    for i in range(len(radius)):
        reach = radius[i] * 1.3 + 3 * edge
        c0, c1 = np.searchsorted(xs, [cx[i] - reach, cx[i] + reach])
        r0, r1 = np.searchsorted(ys, [cy[i] - reach, cy[i] + reach])
        if c0 >= c1 or r0 >= r1:
            continue
        d = np.sqrt((xs[c0:c1][None, :] - cx[i]) ** 2 + (ys[r0:r1][:, None] - cy[i]) ** 2)
        alpha = np.clip((radius[i] - d) / edge, 0.0, 1.0)[..., None]
        ring = np.clip(1.0 - np.abs(d - radius[i] * 1.3) / (3 * edge), 0.0, 1.0)[..., None] * 0.5
        box = img[r0:r1, c0:c1]
        img[r0:r1, c0:c1] = box * (1.0 - alpha) + shapes.colour[i] * alpha + ring * shapes.colour[i]
    out: F32 = img * np.float32(1.0 + 0.6 * pulse)
    return out
