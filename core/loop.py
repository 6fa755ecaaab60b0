"""Seamless loop points: where a clip returns to (nearly) its first frame, it can jump back unseen."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from core.errors import CompositionError

_THUMB_W, _THUMB_H = 64, 36


def find_loop_point(path: Path, *, min_fraction: float = 0.5, threshold: float = 0.03) -> float | None:
    """Time t (seconds) at which the clip's frame best matches its first frame, or None.

    Only frames at or after ``min_fraction`` of the clip are candidates, so a loop keeps most of the material.
    Similarity is the mean absolute difference of 64x36 grayscale thumbnails, as a fraction of full scale;
    ``threshold`` is the largest difference still invisible at a jump. Playing ``[0, t)`` repeatedly is then
    seamless, because the frame at t is (almost) the frame at 0.
    """
    thumbs, fps = _thumbnails(path)
    if len(thumbs) < 3 or fps <= 0:
        return None
    first = thumbs[0]
    start = max(2, int(np.ceil(len(thumbs) * min_fraction)))
    diffs = np.abs(thumbs[start:] - first).mean(axis=(1, 2)) / 255.0
    if diffs.size == 0:
        return None
    # Prefer the latest of the (near-)best matches: more material before the repeat.
    best = float(diffs.min())
    if best > threshold:
        return None
    k = start + int(np.flatnonzero(diffs <= best + threshold * 0.1)[-1])
    return k / fps


def _thumbnails(path: Path) -> tuple[NDArray[np.float32], float]:
    try:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            thumbs = [f.reformat(width=_THUMB_W, height=_THUMB_H, format="gray").to_ndarray() for f in c.decode(stream)]
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        raise CompositionError(f"cannot read clip {path}: {exc}") from exc
    if not thumbs:
        return np.zeros((0, _THUMB_H, _THUMB_W), np.float32), fps
    return np.stack(thumbs).astype(np.float32), fps


def loop_passes(frames: int, available: float, beats: Sequence[int], loop_point: int | None = None) -> list[int]:
    """How a clip covering ``available`` output frames fills ``frames`` by playing from its start again: the
    length of each pass, in output frames (they sum to ``frames``). Each restart falls on the latest beat (frame
    offsets in ``beats``) the pass reaches, so the jump lands with the music; only where no beat lies in the
    second half of a pass does it restart at ``loop_point`` (a seamless frame), or at the clip's end."""
    reach = max(1, int(available))
    passes: list[int] = []
    pos = 0
    while frames - pos > reach:
        on_beat = [b - pos for b in beats if reach / 2 <= b - pos <= reach]
        step = max(on_beat) if on_beat else min(reach, loop_point or reach)
        passes.append(step)
        pos += step
    passes.append(frames - pos)
    return passes
