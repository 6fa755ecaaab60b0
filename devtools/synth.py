"""Synthetic songs with known beat grids, for precise beat-tracking checks.

Every generator is deterministic (seeded) and returns ``(samples, sr, true_beats)``: mono float32 samples in
[-1, 1], the sample rate, and the beat times in seconds at which a kick (and on 2/4 a snare) *starts*.
The drums sit on top of a bass line and a soft pad so the onset picture resembles real music (tonal energy
between the hits), not a click track.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def render(
    beats: np.ndarray,
    duration: float,
    *,
    sr: int = SR,
    seed: int = 0,
    beats_per_bar: int = 4,
    first_pos: int = 0,
    subdivision: int = 2,
    swing: float = 0.5,
    backbeat: str = "rock",
    sub_gain: float = 0.15,
    intro: float = 0.0,
) -> np.ndarray:
    """Drums + bass + pad following ``beats``.

    ``first_pos`` is the bar position of the first beat (0 = it is a downbeat; 3 in 4/4 = a one-beat pickup).
    ``subdivision`` hats per beat (2 = eighths, 3 = triplets / 6/8 eighths); with 2, ``swing`` places the
    off-beat hat at that fraction of the beat (0.5 straight, 2/3 swung). ``backbeat``: ``"rock"`` (kick every
    beat, loudest on the one, snare on the even beats), ``"half"`` (kick on 1, snare on 3 only: a half-time
    feel that invites halving the tempo), ``"waltz"`` (oom-pa-pa: kick on 1, light snare on 2 and 3),
    ``"compound"`` (6/8 at the dotted-quarter level: kick on 1, snare on 2). ``intro`` seconds of pad alone
    (no attacks) before the first beat. The bass root changes every bar (a harmonic change on each "one").
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    out = np.zeros(n, dtype=np.float32)
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hihat(sr, rng)
    t = np.arange(n) / sr
    bass = np.zeros(n, dtype=np.float32)
    pad = np.zeros(n, dtype=np.float32)
    if intro > 0 and len(beats):
        i1 = min(n, int(beats[0] * sr))
        chord = sum(np.sin(2 * np.pi * _ROOTS[-1] * 4 * r * t[:i1]) for r in (1.0, 1.26, 1.5))
        pad[:i1] += np.asarray(0.04 * chord * np.minimum(1.0, t[:i1] / 1.0), dtype=np.float32)
    for k, b in enumerate(beats):
        nxt = beats[k + 1] if k + 1 < len(beats) else b + (b - beats[k - 1] if k else 0.5)
        bar, pos = divmod(k + first_pos, beats_per_bar)
        if backbeat == "rock":
            _add(out, kick, b, sr, 0.9 if pos == 0 else 0.7)
            if pos % 2 == 1:
                _add(out, snare, b, sr, 0.5)
        elif backbeat == "half":
            if pos == 0:
                _add(out, kick, b, sr, 0.9)
            if pos == 2:
                _add(out, snare, b, sr, 0.7)
        elif backbeat == "waltz":
            if pos == 0:
                _add(out, kick, b, sr, 0.9)
            else:
                _add(out, snare, b, sr, 0.3)
        elif backbeat == "compound":
            _add(out, kick if pos == 0 else snare, b, sr, 0.9 if pos == 0 else 0.5)
        else:
            raise ValueError(f"unknown backbeat {backbeat!r}")
        _add(out, hat, b, sr, 0.25)
        if subdivision == 2:
            _add(out, hat, b + swing * (nxt - b), sr, sub_gain)
        else:
            for j in range(1, subdivision):
                _add(out, hat, b + j * (nxt - b) / subdivision, sr, sub_gain)
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


@dataclass(frozen=True)
class SynthSong:
    """One corpus entry: samples and the truth (beats, downbeats, meter) it was rendered from."""

    name: str
    samples: np.ndarray
    sr: int
    beats: np.ndarray
    downbeats: np.ndarray
    meter: str  # "4/4", "3/4", "6/8"
    clear_meter: bool = True


def _grid(duration: float, start: float, bpm_at: Callable[[float], float]) -> np.ndarray:
    beats = [start]
    while True:
        nxt = beats[-1] + 60.0 / bpm_at(beats[-1])
        if nxt >= duration - 0.05:
            return np.asarray(beats)
        beats.append(nxt)


def _song(
    name: str,
    beats: np.ndarray,
    duration: float,
    meter: str,
    *,
    beats_per_bar: int,
    first_pos: int = 0,
    seed: int = 0,
    **kw: Any,
) -> SynthSong:
    y = render(beats, duration, seed=seed, beats_per_bar=beats_per_bar, first_pos=first_pos, **kw)
    down = beats[[(k + first_pos) % beats_per_bar == 0 for k in range(beats.size)]]
    return SynthSong(name, y, SR, beats, down, meter)


def corpus(duration: float = 30.0) -> list[SynthSong]:
    """The development corpus: known beat grids, bars and meters (each ``duration`` s, deterministic).

    Steady 4/4; tempo jump, ramp and the 132 -> 98 step; 3/4 waltzes (slow, fast, with a pickup); 6/8 at the
    dotted quarter; swung eighths; an 84 BPM song with loud eighth hats (84 and 168 equally plausible); a
    150 BPM half-time backbeat; rubato (+-6 % tempo wander); a 6 s quiet pad intro; a song starting one beat
    before the first downbeat.
    """
    d = duration

    def steady(bpm: float) -> Callable[[float], float]:
        return lambda _t: bpm

    def step(a: float, b: float, at: float, ramp: float = 0.0) -> Callable[[float], float]:
        return lambda t: a if t < at else b if ramp <= 0 else a + min(1.0, (t - at) / ramp) * (b - a)

    def wander(t: float) -> float:
        return 100.0 * (1.0 + 0.06 * math.sin(2 * math.pi * t / 11.0))

    return [
        _song("4/4 120 steady", _grid(d, 0.35, steady(120.0)), d, "4/4", beats_per_bar=4),
        _song("4/4 100->130 jump", _grid(d, 0.35, step(100.0, 130.0, d / 2)), d, "4/4", beats_per_bar=4, seed=1),
        _song("4/4 90->140 ramp", _grid(d, 0.35, step(90.0, 140.0, 8.0, 15.0)), d, "4/4", beats_per_bar=4, seed=5),
        _song("4/4 132->98 step", _grid(d, 0.30, step(132.0, 98.0, d / 2)), d, "4/4", beats_per_bar=4, seed=6),
        _song("3/4 96 waltz", _grid(d, 0.40, steady(96.0)), d, "3/4", beats_per_bar=3, backbeat="waltz", seed=7),
        _song("3/4 168 fast waltz", _grid(d, 0.30, steady(168.0)), d, "3/4", beats_per_bar=3, backbeat="waltz", seed=8),
        _song(
            "3/4 120 pickup",
            _grid(d, 0.25, steady(120.0)),
            d,
            "3/4",
            beats_per_bar=3,
            first_pos=2,
            backbeat="waltz",
            seed=9,
        ),
        _song(
            "6/8 80 compound",
            _grid(d, 0.30, steady(80.0)),
            d,
            "6/8",
            beats_per_bar=2,
            backbeat="compound",
            subdivision=3,
            sub_gain=0.2,
            seed=10,
        ),
        _song("4/4 110 swing", _grid(d, 0.30, steady(110.0)), d, "4/4", beats_per_bar=4, swing=2 / 3, seed=11),
        _song("4/4 84 loud eighths", _grid(d, 0.30, steady(84.0)), d, "4/4", beats_per_bar=4, sub_gain=0.3, seed=12),
        _song("4/4 150 half-time", _grid(d, 0.30, steady(150.0)), d, "4/4", beats_per_bar=4, backbeat="half", seed=13),
        _song("4/4 100 rubato", _grid(d, 0.30, wander), d, "4/4", beats_per_bar=4, seed=14),
        _song("4/4 115 quiet intro", _grid(d, 6.0, steady(115.0)), d, "4/4", beats_per_bar=4, intro=6.0, seed=15),
        _song("4/4 125 pickup", _grid(d, 0.20, steady(125.0)), d, "4/4", beats_per_bar=4, first_pos=3, seed=16),
    ]


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
