"""Ellis's dynamic-programming beat tracker with a tempo per frame, in numpy.

The same algorithm, and the same beats, as ``librosa.beat.beat_track(onset_envelope=, bpm=<array>, trim=False,
units="frames")``: librosa runs it in five numba ``guvectorize`` kernels that compile eagerly when
``librosa.beat`` is imported, one of them with ``cache=False``, so every new process (each flow run, each CLI
render) paid 3-4 s of CPU more than the rest of librosa before its first beat. Here the inner loops are a few
numpy operations per frame. ``tests/core/test_beat_dp.py`` checks it against librosa's kernels frame for frame.

    onsets --normalise (std)--> --local score (Gaussian window, one beat wide, per frame)-->
           --DP: best predecessor 0.5-2 beats back, log-squared tempo penalty--> --last beat, backtrack--> frames
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def beat_frames(onset: FloatArray, bpm: FloatArray, frame_rate: float, *, tightness: float = 100.0) -> IntArray:
    """Beat frames of ``onset`` (one value per frame) for the tempo ``bpm`` (one value per frame, or one)."""
    onset = np.asarray(onset, dtype=np.float64)
    if onset.size == 0 or not onset.any():
        return np.zeros(0, dtype=np.int64)
    bpm = np.broadcast_to(np.asarray(bpm, dtype=np.float64), onset.shape)
    if np.any(bpm <= 0) or tightness <= 0:
        raise ValueError("tempo and tightness must be positive")
    fpb = np.round(frame_rate * 60.0 / bpm).astype(np.int64)  # frames per beat
    norm = onset / (onset.std(ddof=1) + np.finfo(np.float64).tiny)
    local = _local_score(norm, fpb)
    backlink, cumscore = _dp(local, fpb, tightness)
    beats = np.zeros(onset.size, dtype=bool)
    n = _last_beat(cumscore)
    while n >= 0:
        beats[n] = True
        n = int(backlink[n])
    # trim=False still drops beats on the silent frames at either end (librosa's threshold 0)
    voiced = np.flatnonzero(local > 0)
    beats[: voiced[0]] = False
    beats[voiced[-1] + 1 :] = False
    return np.flatnonzero(beats).astype(np.int64)


def _local_score(onset: FloatArray, fpb: IntArray) -> FloatArray:
    """The onsets smoothed, per frame, by a Gaussian of std 1/32 beat over +-1 beat at that frame's tempo.

    librosa's loop never reads frame 0 (its inner range stops one short), so neither does this."""
    src = onset.copy()
    src[0] = 0.0
    out = np.zeros_like(src)
    for f in np.unique(fpb):
        window = np.exp(-0.5 * (np.arange(-f, f + 1) * 32.0 / f) ** 2)
        where = fpb == f
        out[where] = np.convolve(src, window, mode="same")[where] if window.size <= src.size else 0.0
    return out


def _dp(local: FloatArray, fpb: IntArray, tightness: float) -> tuple[IntArray, FloatArray]:
    """(backlink, cumulative score): each frame's best predecessor beat between 2 beats and half a beat back."""
    n = local.size
    backlink = np.full(n, -1, dtype=np.int64)
    cumscore = np.zeros(n, dtype=np.float64)
    threshold = 0.01 * float(local.max())
    penalties: dict[int, FloatArray] = {}
    first_beat = True
    for i in range(n):
        f = int(fpb[i])
        near = i - int(np.round(f / 2))  # the nearest predecessor allowed
        best, where = -np.inf, -1
        if near >= 0:
            far = max(i - 2 * f, 0)
            pen = penalties.get(f)
            if pen is None:  # by distance d = i - loc, d = 0 .. 2f
                d = np.arange(2 * f + 1, dtype=np.float64)
                with np.errstate(divide="ignore"):
                    pen = penalties[f] = -tightness * (np.log(d) - np.log(f)) ** 2
            # candidates nearest first, as librosa scans them: ties go to the nearest
            scores = cumscore[near : far - 1 if far > 0 else None : -1] + pen[i - near : i - far + 1]
            k = int(np.argmax(scores))
            best, where = float(scores[k]), near - k
        cumscore[i] = local[i] + (best if where >= 0 else 0.0)
        if first_beat and local[i] < threshold:
            backlink[i] = -1
        else:
            backlink[i] = where
            first_beat = False
    return backlink, cumscore


def _last_beat(cumscore: FloatArray) -> int:
    """The last local maximum of the cumulative score that reaches half the median local maximum."""
    padded = np.pad(cumscore, 1, mode="edge")
    peaks = (cumscore > padded[:-2]) & (cumscore >= padded[2:])
    if not peaks.any():
        return cumscore.size - 1
    threshold = 0.5 * float(np.median(cumscore[peaks]))
    good = np.flatnonzero(peaks & (cumscore >= threshold))
    return int(good[-1]) if good.size else cumscore.size - 1
