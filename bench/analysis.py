"""Audio-analysis benchmark: warm wall time for a ~3-minute song, and beat F-measure vs. plain librosa.

uv run python -m bench.analysis
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mir_eval
import numpy as np
from rich.console import Console
from rich.table import Table

from core.audio import analyze, beat_times
from core.audio_input import load_audio
from core.media import ffmpeg_exe
from devtools.synth import steady_song, tempo_change_song

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("VIDEOGEN_TESTDATA", ROOT.parent / "shared" / "testdata"))
SONG = TESTDATA / "music" / "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg"
MADMOM = TESTDATA / "beats" / "madmom_sample.wav"
TARGET_SECONDS = 180.0


def plain_librosa(y: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    _, beats = librosa.beat.beat_track(y=y, sr=sr, hop_length=512, units="time")
    return np.asarray(beats)


def f_measure(truth: np.ndarray, est: np.ndarray) -> float:
    return float(mir_eval.beat.f_measure(truth, est, f_measure_threshold=0.07))


def timing_row(tmp: Path) -> tuple[float, float, float]:
    """Karissa Hobbs (133 s) looped to 180 s and re-encoded as 44.1 kHz stereo OGG (so Vorbis decoding and
    resampling are timed too); median of 3 warm runs of analyze()."""
    path = tmp / "song180.ogg"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            "1",
            "-i",
            str(SONG),
        ]
        + ["-t", str(TARGET_SECONDS), "-vn", "-c:a", "libvorbis", str(path)],
        check=True,
    )
    analyze(path)  # warm-up: numba JIT, FFT plans
    walls = []
    for _ in range(3):
        t0 = time.perf_counter()
        analyze(path)
        walls.append(time.perf_counter() - t0)
    # the original OGG (decode of Vorbis included), scaled per minute
    t0 = time.perf_counter()
    a = analyze(SONG)
    ogg_wall = time.perf_counter() - t0
    return float(np.median(walls)), ogg_wall, a.duration


def main() -> int:
    console = Console(width=140)
    rows: list[tuple[str, str, str, str, bool]] = []
    with tempfile.TemporaryDirectory() as d:
        wall, ogg_wall, ogg_dur = timing_row(Path(d))
    rows.append(
        (
            "analyze() 180 s song (OGG 44.1 kHz), warm",
            f"{wall:.2f} s  ({wall / 3:.2f} s/min)",
            "< 2.0 s",
            "",
            wall < 2.0,
        )
    )
    per_min = ogg_wall / (ogg_dur / 60)
    rows.append(
        (
            f"analyze() Karissa Hobbs OGG {ogg_dur:.0f} s, warm",
            f"{ogg_wall:.2f} s  ({per_min:.2f} s/min)",
            "< 0.67 s/min",
            "",
            per_min < 2.0 / 3,
        )
    )

    ref = np.loadtxt(MADMOM.with_suffix(".beats"), comments="#", ndmin=2)[:, 0]
    my, sr = load_audio(MADMOM)
    cases: list[tuple[str, np.ndarray, int, np.ndarray, float]] = [
        ("madmom_sample.wav (2.8 s, human)", my, sr, ref, 0.5),
    ]
    for name, (y, ssr, truth), target in (
        ("synthetic 120 BPM steady 30 s", steady_song(120.0, 30.0), 0.95),
        ("synthetic 100->130 BPM jump 30 s", tempo_change_song(100.0, 130.0, change_at=15.0), 0.90),
        (
            "synthetic 90->140 BPM ramp 30 s",
            tempo_change_song(90.0, 140.0, change_at=8.0, ramp=15.0, seed=5),
            0.90,
        ),
    ):
        cases.append((name, y, ssr, truth, target))
    trackers: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
        "ours": beat_times,
        "librosa": plain_librosa,
    }
    for name, y, ssr, truth, target in cases:
        ours = f_measure(truth, trackers["ours"](y, ssr))
        plain = f_measure(truth, trackers["librosa"](y, ssr))
        rows.append((f"beat F: {name}", f"{ours:.3f}", f">= {target:.2f}", f"{plain:.3f}", ours >= target))

    table = Table(title="Audio analysis benchmark (sr 22050, hop 512, 70 ms F window)")
    for col in ("measure", "result", "target", "plain librosa.beat_track", "pass"):
        table.add_column(col)
    for measure, result, target, plain, ok in rows:
        table.add_row(measure, result, target, plain, "[green]PASS[/]" if ok else "[red]FAIL[/]")
    console.print(table)
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
