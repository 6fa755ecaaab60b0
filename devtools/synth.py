"""Synthetic songs with known beat grids, for precise beat-tracking checks.

Every generator is deterministic (seeded) and returns ``(samples, sr, true_beats)``: mono float32 samples in
[-1, 1], the sample rate, and the beat times in seconds at which a kick (and on 2/4 a snare) *starts*.
The drums sit on top of a bass line and a soft pad so the onset picture resembles real music (tonal energy
between the hits), not a click track.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 22050
Song = tuple[np.ndarray, int, np.ndarray]

# A minor-ish progression (Hz of the bass roots), one chord per bar.
_ROOTS = (55.0, 43.65, 65.41, 49.0)


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.25 * sr)) / sr
    freq = 50.0 + 90.0 * np.exp(-t / 0.03)  # pitch drop 140 -> 50 Hz
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return np.asarray(np.sin(phase) * np.exp(-t / 0.07), dtype=np.float32)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.18 * sr)) / sr
    noise = rng.standard_normal(t.size) * np.exp(-t / 0.045)
    tone = np.sin(2 * np.pi * 190.0 * t) * np.exp(-t / 0.03)
    return np.asarray(0.45 * noise + 0.5 * tone, dtype=np.float32)


def _hihat(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.05 * sr)
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0)  # crude high-pass
    return np.asarray(noise * np.exp(-np.arange(n) / sr / 0.012), dtype=np.float32)


def _add(out: np.ndarray, sound: np.ndarray, at: float, sr: int, gain: float) -> None:
    i = int(round(at * sr))
    if i >= out.size:
        return
    j = min(out.size, i + sound.size)
    out[i:j] += gain * sound[: j - i]


def render(beats: np.ndarray, duration: float, *, sr: int = SR, seed: int = 0, beats_per_bar: int = 4) -> np.ndarray:
    """Drums + bass + pad following ``beats`` (the first beat is a downbeat)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    out = np.zeros(n, dtype=np.float32)
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hihat(sr, rng)
    t = np.arange(n) / sr
    bass = np.zeros(n, dtype=np.float32)
    pad = np.zeros(n, dtype=np.float32)
    for k, b in enumerate(beats):
        nxt = beats[k + 1] if k + 1 < len(beats) else b + (b - beats[k - 1] if k else 0.5)
        bar, pos = divmod(k, beats_per_bar)
        _add(out, kick, b, sr, 0.9 if pos == 0 else 0.7)
        if pos % 2 == 1:
            _add(out, snare, b, sr, 0.5)
        _add(out, hat, b, sr, 0.25)
        _add(out, hat, (b + nxt) / 2, sr, 0.15)  # off-beat eighth
        root = _ROOTS[bar % len(_ROOTS)]
        i0, i1 = int(b * sr), min(n, int(nxt * sr))
        if i1 <= i0:
            continue
        seg = t[i0:i1] - b
        env = np.minimum(1.0, seg / 0.01) * np.exp(-seg / 0.35)
        bass[i0:i1] += (0.35 * env * np.sin(2 * np.pi * root * seg)).astype(np.float32)
        # pad: a sustained triad two octaves up, no attack so it adds no onsets of its own
        chord = sum(np.sin(2 * np.pi * root * 4 * r * t[i0:i1]) for r in (1.0, 1.26, 1.5))
        pad[i0:i1] += np.asarray(0.04 * chord, dtype=np.float32)
    mix = out + bass + pad
    mix += 0.003 * rng.standard_normal(n).astype(np.float32)
    return (0.8 * mix / max(1e-9, float(np.max(np.abs(mix))))).astype(np.float32)


def steady_song(
    bpm: float = 120.0, duration: float = 30.0, *, start: float = 0.35, sr: int = SR, seed: int = 0
) -> Song:
    """Constant tempo; first beat at ``start`` seconds."""
    beats = np.arange(start, duration - 0.05, 60.0 / bpm)
    return render(beats, duration, sr=sr, seed=seed), sr, beats


def tempo_change_song(
    bpm_from: float = 100.0,
    bpm_to: float = 130.0,
    *,
    change_at: float = 15.0,
    ramp: float = 0.0,
    duration: float = 30.0,
    start: float = 0.35,
    sr: int = SR,
    seed: int = 1,
) -> Song:
    """Tempo ``bpm_from`` until ``change_at``, then ``bpm_to`` (linearly over ``ramp`` s; 0 = a jump)."""
    beats = [start]
    while True:
        t = beats[-1]
        frac = 0.0 if t < change_at else 1.0 if ramp <= 0 else min(1.0, (t - change_at) / ramp)
        bpm = bpm_from + frac * (bpm_to - bpm_from)
        nxt = t + 60.0 / bpm
        if nxt >= duration - 0.05:
            break
        beats.append(nxt)
    arr = np.asarray(beats)
    return render(arr, duration, sr=sr, seed=seed), sr, arr


def drone(duration: float = 20.0, *, sr: int = SR, seed: int = 2) -> np.ndarray:
    """A sustained chord with a slow swell and faint pink noise: music-like, but without any beat."""
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    t = np.arange(n) / sr
    chord = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in (110.0, 138.6, 164.8, 220.0))
    swell = 0.55 + 0.45 * np.sin(2 * np.pi * t / 7.3)
    white = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    pink = np.fft.irfft(white / np.sqrt(np.maximum(freqs, 20.0)), n)
    pink /= max(1e-9, float(np.max(np.abs(pink))))
    mix = swell * (0.2 * chord + 0.1 * pink)
    # fade in/out so the edges add no onsets
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 1.0)
    return np.asarray(0.5 * mix * fade / max(1e-9, float(np.max(np.abs(mix)))), dtype=np.float32)


def write_wav(path: Path, samples: np.ndarray, sr: int = SR) -> Path:
    sf.write(str(path), samples, sr, subtype="PCM_16")
    return path
