"""core.beat_dp against librosa's numba beat tracker: the same beat frames on the same onsets and tempo.

librosa.beat is imported here only (its kernels compile for ~11 s of CPU at import), as the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import audio
from core.audio_input import load_audio
from core.beat_dp import beat_frames
from devtools.synth import corpus


def _librosa_frames(env: np.ndarray, bpm: np.ndarray, features: audio.Features) -> np.ndarray:
    import librosa.beat

    _, frames = librosa.beat.beat_track(
        onset_envelope=env, sr=features.sr, hop_length=features.hop, bpm=bpm, tightness=100.0, trim=False,
        units="frames",
    )  # fmt: skip
    return np.asarray(frames, dtype=np.int64)


def _inputs(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, audio.Features]:
    """The envelope and per-frame tempo that track_beats hands the tracker."""
    f = audio.compute_features(y, sr)
    env = audio.beat_envelope(f)
    bpm, _ = audio.tempo_curve(f)
    return env, bpm, f


SONGS = ["Kevin_MacLeod_-_Vibe_Ace.hq.ogg", "147793__setuniman__sweet-waltz-0i-22mi.hq.ogg",
         "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg"]  # fmt: skip


@pytest.mark.parametrize("name", SONGS)
def test_same_beats_as_librosa_on_real_songs(testdata: Path, name: str) -> None:
    """Tried: a steady lounge song, a waltz and a rubato string orchestra, with their time-varying tempo curves."""
    y, sr = load_audio(testdata / "music" / name)
    env, bpm, f = _inputs(y, sr)
    ours = beat_frames(env, bpm, f.frame_rate)
    assert ours.size > 20
    np.testing.assert_array_equal(ours, _librosa_frames(env, bpm, f))


def test_same_beats_as_librosa_on_the_synthetic_corpus() -> None:
    """Tried: every synthetic song (3/4, 6/8, swing, ramps, steps, rubato, quiet intros), 12 s each."""
    for song in corpus(12.0):
        env, bpm, f = _inputs(song.samples, song.sr)
        np.testing.assert_array_equal(beat_frames(env, bpm, f.frame_rate), _librosa_frames(env, bpm, f), song.name)


def test_same_beats_as_librosa_on_noise_with_a_constant_and_a_wandering_tempo() -> None:
    """Tried: 20 s of sparse random onsets (silent first and last second), one tempo, then a tempo that wanders
    between 70 and 180 BPM."""
    rng = np.random.default_rng(7)
    f = audio.Features(sr=22050, hop=512, duration=20.0, onset=np.zeros(1), onset_low=np.zeros(1),
                       chroma=np.zeros((12, 1)), mfcc=np.zeros((13, 1)))  # fmt: skip
    n = int(20.0 * f.frame_rate)
    env = np.where(rng.random(n) < 0.15, rng.random(n), 0.0)
    env[: int(f.frame_rate)] = 0.0
    env[-int(f.frame_rate) :] = 0.0
    wander = 125 + 55 * np.sin(np.linspace(0, 3 * np.pi, n))
    for bpm in (np.full(n, 97.0), wander):
        np.testing.assert_array_equal(beat_frames(env, bpm, f.frame_rate), _librosa_frames(env, bpm, f))


def test_no_onsets_no_beats() -> None:
    """Tried: an all-zero envelope -> no beats (as librosa), and a bad tempo -> ValueError."""
    assert beat_frames(np.zeros(500), np.full(500, 120.0), 43.07).size == 0
    with pytest.raises(ValueError):
        beat_frames(np.ones(500), np.zeros(500), 43.07)
