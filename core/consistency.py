"""Does a clip keep the video's look? Two cheap, measurable figures per clip, flagged beyond thresholds.

``palette_distance``: for sampled pixels of a few frames, the RGB distance to the nearest colour of the plan's
palette, averaged and scaled to 0..1 (0: every pixel is a palette colour; 1: as far as black from white).
``reference_similarity``: histogram intersection (8 bins a channel) of the clip's frames with the references the
clip was made from (the style image, plus the characters' images it was given), 0..1.

Both are colour statistics, not identity: they catch a clip that drifted to another palette or look, not a face
that changed. Thresholds were set on the offline renderer's clips (see tests/core/test_consistency.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from core.contracts import ClipConsistency
from core.errors import CompositionError
from core.media import ffmpeg_exe

#: flag a clip whose colours sit this far from the palette (0..1) on average
MAX_PALETTE_DISTANCE = 0.30
#: flag a clip whose colour histogram overlaps its references less than this (0..1)
MIN_REFERENCE_SIMILARITY = 0.20
SIDE, FRAMES, BINS = 48, 4, 8
MIN_KEYFRAMES = 3  # fewer, and the frames are sampled at even times instead
_MAX_RGB = float(np.sqrt(3) * 255)


def sample_frames(video: Path, *, duration: float, frames: int = FRAMES, side: int = SIDE) -> NDArray[np.uint8]:
    """Up to ``frames`` frames spread over the clip, each squeezed to side x side RGB: (n, side, side, 3).

    The clip's keyframes when it has at least ``MIN_KEYFRAMES``: the offline model's clips have one at each piece and
    every 4 s, and decoding only those made the check ~6x cheaper (it was a fifth of the video stage's CPU).
    Otherwise ``frames`` frames at even times, which decodes every frame up to the last. Neither runs the loop
    filter: 48 x 48 colour statistics cannot see it."""
    keys = _decode(video, f"scale={side}:{side}", side, keyframes_only=True)
    if len(keys) >= MIN_KEYFRAMES:
        picked: NDArray[np.uint8] = keys[
            np.unique(np.linspace(0, len(keys) - 1, min(frames, len(keys))).round().astype(int))
        ]
        return picked
    rate = frames / max(duration, 0.1)
    return _decode(video, f"fps={rate:.4f},scale={side}:{side}", side, limit=frames)


def _decode(
    video: Path, chain: str, side: int, *, keyframes_only: bool = False, limit: int | None = None
) -> NDArray[np.uint8]:
    """The frames ``chain`` passes (at most ``limit``), as (n, side, side, 3) RGB."""
    skip = ["-skip_frame", "nokey"] if keyframes_only else []
    stop = ["-frames:v", str(limit)] if limit else []
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-skip_loop_filter", "all", *skip,
           "-i", str(video), "-vf", chain, "-fps_mode", "passthrough", *stop, "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, check=False)
    size = side * side * 3
    if proc.returncode != 0 or len(proc.stdout) < size:
        raise CompositionError(f"cannot sample frames of {video.name}: {proc.stderr.decode(errors='replace')[-200:]}")
    n = len(proc.stdout) // size
    return np.frombuffer(proc.stdout[: n * size], dtype=np.uint8).reshape(n, side, side, 3)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def palette_distance(pixels: NDArray[np.uint8], palette: list[str]) -> float:
    colours = np.array([_rgb(c) for c in palette], dtype=np.float32)
    flat = pixels.reshape(-1, 3).astype(np.float32)
    nearest = np.sqrt(((flat[:, None, :] - colours[None, :, :]) ** 2).sum(-1)).min(1)
    return float(nearest.mean() / _MAX_RGB)


def histogram(pixels: NDArray[np.uint8]) -> NDArray[np.float64]:
    q = (pixels.reshape(-1, 3) // (256 // BINS)).astype(np.int64)
    h: NDArray[np.float64] = np.bincount(q[:, 0] * BINS * BINS + q[:, 1] * BINS + q[:, 2], minlength=BINS**3).astype(
        np.float64
    )
    out: NDArray[np.float64] = h / max(float(h.sum()), 1.0)
    return out


def image_pixels(path: Path, side: int = SIDE) -> NDArray[np.uint8]:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((side, side)), dtype=np.uint8)


def check_clip(
    video: Path,
    *,
    duration: float,
    palette: list[str],
    references: list[Path],
    characters: list[str] | None = None,
) -> ClipConsistency:
    """The clip's figures against the plan's palette and its references (none: similarity 1, nothing to drift
    from), flagged with the reasons beyond ``MAX_PALETTE_DISTANCE`` / ``MIN_REFERENCE_SIMILARITY``."""
    pixels = sample_frames(video, duration=duration)
    distance = palette_distance(pixels, palette)
    similarity = 1.0
    if references:
        refs = np.mean([histogram(image_pixels(r)) for r in references], axis=0)
        similarity = float(np.minimum(histogram(pixels), refs).sum())
    reasons = []
    if distance > MAX_PALETTE_DISTANCE:
        reasons.append(f"colours {distance:.2f} from the palette (> {MAX_PALETTE_DISTANCE})")
    if similarity < MIN_REFERENCE_SIMILARITY:
        reasons.append(f"looks unlike its references ({similarity:.2f} < {MIN_REFERENCE_SIMILARITY})")
    return ClipConsistency(palette_distance=round(min(distance, 1.0), 4), reference_similarity=round(similarity, 4),
                           characters_used=list(characters or []), flagged=bool(reasons), reasons=reasons)  # fmt: skip
