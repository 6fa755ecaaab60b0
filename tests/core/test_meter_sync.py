"""Issue 13: one metrical level, meter and downbeats, cut points, the sync report, contract defaults.

Every test names the input it tries. The synthetic corpus (devtools.synth.corpus) has known beats, bars and
meters; the beat tracker runs on features directly (no file I/O) to keep the file fast on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import mir_eval
import numpy as np
import pytest

from core.audio import (
    Features,
    analyze,
    compute_features,
    estimate_meter,
    onset_peaks,
    plan_boundaries,
    preferred_max_clip,
    segment_sections,
    track_beats,
)
from core.compose import cut_sync
from core.contracts import AudioAnalysis, CompositionResult
from core.timeline import Cut
from devtools.synth import SynthSong, _grid, _song, corpus, write_wav

SONGS = {s.name: s for s in corpus()}


@pytest.fixture(scope="module")
def tracked() -> dict[str, tuple[SynthSong, Features, np.ndarray]]:
    out = {}
    for name, song in SONGS.items():
        f = compute_features(song.samples, song.sr)
        out[name] = (song, f, track_beats(f).times)
    return out


@pytest.mark.parametrize("name", list(SONGS))
def test_corpus_beats_one_level(tracked: dict[str, tuple[SynthSong, Features, np.ndarray]], name: str) -> None:
    """Tried: each corpus song (30 s) -> beat F >= 0.97 (70 ms) and every 4 s window at the true beat period."""
    song, _, beats = tracked[name]
    f = mir_eval.beat.f_measure(song.beats, beats, f_measure_threshold=0.07)
    assert f >= 0.97, f"{name}: F={f:.3f}"
    for t0 in np.arange(song.beats[0], song.beats[-1] - 4.0, 4.0):
        est = beats[(beats >= t0) & (beats < t0 + 4.0)]
        true = song.beats[(song.beats >= t0) & (song.beats < t0 + 4.0)]
        ratio = np.median(np.diff(est)) / np.median(np.diff(true))
        assert abs(ratio - 1.0) < 0.1, f"{name}: beat period x{ratio:.2f} at {t0:.0f} s (octave flip)"


@pytest.mark.parametrize("name", list(SONGS))
def test_corpus_meter_and_downbeats(tracked: dict[str, tuple[SynthSong, Features, np.ndarray]], name: str) -> None:
    """Tried: each corpus song -> the rendered meter (4/4, 3/4, 6/8) and every downbeat within 50 ms of a true
    bar start (the waltz and 4/4 pickups start off the downbeat)."""
    song, f, beats = tracked[name]
    meter = estimate_meter(f, beats)
    assert meter.label == song.meter, f"{name}: {meter}"
    down = beats[meter.phase :: meter.beats_per_bar]
    assert all(np.min(np.abs(song.downbeats - d)) < 0.05 for d in down), f"{name}: downbeats off the bar starts"


def test_onset_peaks_are_independent_and_precise() -> None:
    """Tried: the 120 BPM steady song -> a level-rise onset within 5 ms of every true beat (no tracker used)."""
    song = SONGS["4/4 120 steady"]
    on = onset_peaks(song.samples, song.sr)
    assert max(np.min(np.abs(on - t)) for t in song.beats) < 0.005


def test_irregular_beats_are_no_cut_candidates() -> None:
    """Tried: a 100 BPM grid over 40 s with downbeats every 4th beat; every downbeat near 5 s steps (the
    slots the plan picks on the clean grid) slips 120 ms so its gaps run 3:2 -> none of them is a cut."""
    beats = np.arange(0.3, 40.0, 0.6)
    clean = plan_boundaries(beats, 40.0, downbeats=beats[::4])
    slipped = [int(np.argmin(np.abs(beats - x.end))) for x in clean[:-1]]
    beats[slipped] += 0.12  # gaps 0.72 / 0.48 around each
    b = plan_boundaries(beats, 40.0, downbeats=beats[::4])
    cuts = np.array([x.end for x in b[:-1]])
    assert not np.any(np.isclose(cuts[:, None], beats[slipped][None, :])), (cuts, beats[slipped])


def test_preferred_max_from_offered_durations() -> None:
    """Tried: offered 4/5/10 s with 3-7 s slots -> 5 s; only 10 s offered -> no preference; then a 120 BPM 4/4
    grid over 60 s planned with preferred_max=5 -> no slot over 5 s, all cuts on downbeats."""
    assert preferred_max_clip((4.0, 5.0, 10.0), 3.0, 7.0) == 5.0
    assert preferred_max_clip((10.0,), 3.0, 7.0) is None
    assert preferred_max_clip(None, 3.0, 7.0) is None
    beats = np.arange(0.25, 60.0, 0.5)
    b = plan_boundaries(beats, 60.0, downbeats=beats[::4], target=5.0, preferred_max=5.0)
    assert max(x.duration for x in b[:-1]) <= 5.0 + 1e-9, [round(x.duration, 2) for x in b]
    assert np.all(np.isin([x.end for x in b[:-1]], beats[::4]))


def test_sections_skip_the_intro_and_span_four_bars(tmp_path: Path) -> None:
    """Tried: a 40 s 4/4 song at 115 BPM whose beats start after a 6 s pad intro -> every section change is a
    beat after the first one, every section >= 4 bars, and the plan's cuts land on downbeats."""
    song = _song("intro", _grid(40.0, 6.0, lambda _t: 115.0), 40.0, "4/4", beats_per_bar=4, intro=6.0, seed=3)
    f = compute_features(song.samples, song.sr)
    beats = track_beats(f).times
    sections = segment_sections(f, beats, np.full(80, 0.5), 0.5, beats_per_bar=4)
    bar = 4 * 60.0 / 115.0
    for sec in sections[1:]:
        assert sec.start >= beats[0] + 4 * bar - 0.05, sections
        assert np.min(np.abs(beats - sec.start)) < 1e-9
    for sec in sections[1:-1]:
        assert sec.end - sec.start >= 4 * bar - 0.05
    a = analyze(write_wav(tmp_path / "intro.wav", song.samples, song.sr), clip_durations=(4.0, 5.0, 10.0))
    assert a.meter == "4/4" and a.meter_confidence > 0.3
    cuts = [x.end for x in a.boundaries[:-1]]
    assert np.mean([np.min(np.abs(song.downbeats - c)) < 0.05 for c in cuts]) >= 0.9, cuts
    assert len(a.onsets) > 50


def test_cut_sync_report() -> None:
    """Tried: two cuts at 30 fps (frames 60 and 121) against beats 2.0/4.0, a downbeat at 2.0 and onsets
    2.01/4.05 -> signed offsets in ms and frames, on_downbeat only for the first, transitions carried."""
    rows = cut_sync(
        [Cut(60, "cut", 0), Cut(121, "crossfade", 8)],
        ["cut", "crossfade"],
        30,
        beats=[2.0, 4.0],
        downbeats=[2.0],
        onsets=[2.01, 4.05],
    )
    assert [r.on_downbeat for r in rows] == [True, False]
    assert rows[0].beat_offset_ms == 0.0 and rows[0].onset_offset_ms == pytest.approx(-10.0)
    assert rows[1].beat_offset_ms == pytest.approx(33.3, abs=0.1)
    assert rows[1].beat_offset_frames == pytest.approx(1.0, abs=0.01)
    assert rows[1].onset_offset_ms == pytest.approx(-16.7, abs=0.1) and rows[1].transition == "crossfade"
    none = cut_sync([Cut(60, "cut", 0)], ["cut"], 30, beats=[])
    assert none[0].beat_offset_ms is None and none[0].onset_offset_ms is None and not none[0].on_downbeat


def test_old_results_still_validate() -> None:
    """Tried: an AudioAnalysis and a CompositionResult dumped without the new fields (meter, onsets, sync)."""
    a = {
        "source": "file:///x.wav", "sha256": "0" * 64, "format": "wav", "duration": 10.0, "sample_rate": 22050,
        "tempo": 120.0, "beats": [0.5, 1.0], "beat_confidence": 0.5, "energy": 0.5, "energy_curve": [0.5],
        "energy_hop": 0.5, "boundaries": [{"index": 0, "start": 0.0, "end": 10.0, "duration": 10.0}],
        "validation": {"beats_detected": True, "boundaries_valid": True, "min_clip_duration": 10.0,
                       "max_clip_duration": 10.0, "cuts_on_beats": True},
    }  # fmt: skip
    old = AudioAnalysis.model_validate(a)
    assert old.meter == "4/4" and old.meter_confidence == 0.0 and old.onsets == []
    c = {
        "uri": "file:///o.mp4", "duration": 10.0, "audio_duration": 10.0, "sync_drift": 0.0, "width": 2,
        "height": 2, "fps": 30.0, "video_codec": "h264", "audio_codec": "aac", "clips_used": [0],
        "clips_trimmed": 0, "clips_looped": 0, "cuts": [],
        "validation": {"duration_ok": True, "sync_ok": True, "resolution_ok": True, "fps_ok": True,
                       "cuts_on_beats": True},
    }  # fmt: skip
    res = CompositionResult.model_validate(c)
    assert res.sync == []
