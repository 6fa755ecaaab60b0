"""Audio-analysis benchmark: the synthetic corpus (beats, tempo octave, meter, cuts) before and after, real-music
tracker checks, and the wall time of a ~3-minute song, in one run and one table.

uv run python -m bench.analysis            # BASE=<commit> picks the "before" code (default: the issue-13 base)
uv run python -m bench.analysis --real     # only the real-music table (../shared/testdata, before and after)

"Before" is ``core/audio.py`` as of ``BASE``, loaded from git into a private module, so both columns are
measured on the same machine in the same process.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import mir_eval
import numpy as np
from rich.console import Console
from rich.table import Table

from core import audio as after_audio
from core.audio_input import load_audio
from core.media import ffmpeg_exe
from devtools.synth import SynthSong, corpus, write_wav

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("VIDEOGEN_TESTDATA", ROOT.parent / "shared" / "testdata"))
SONG = TESTDATA / "music" / "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg"
MADMOM = TESTDATA / "beats" / "madmom_sample.wav"
BASE = os.environ.get("BASE", "288af3c")
TARGET_SECONDS = 180.0
CUT_TOL = 0.050


def baseline_module() -> ModuleType | None:
    """``core/audio.py`` at ``BASE`` as module ``baseline_audio`` (None when git cannot show it)."""
    try:
        src = subprocess.run(
            ["git", "show", f"{BASE}:core/audio.py"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "baseline_audio.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("baseline_audio", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["baseline_audio"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def f_measure(truth: np.ndarray, est: np.ndarray) -> float:
    return float(mir_eval.beat.f_measure(truth, est, f_measure_threshold=0.07))


def octave_levels(truth: np.ndarray, est: np.ndarray, window: float = 4.0) -> list[float]:
    """Metrical level of the estimate per ``window`` s (estimated / true beat period, snapped to 1/3, 1/2, 2/3,
    1, 3/2, 2, 3); a song whose levels differ has a tempo-octave flip."""
    if est.size < 3:
        return []
    levels = []
    snaps = np.array([1 / 3, 1 / 2, 2 / 3, 1.0, 3 / 2, 2.0, 3.0])
    for t0 in np.arange(truth[0], truth[-1] - window / 2, window):
        e = est[(est >= t0) & (est < t0 + window)]
        g = truth[(truth >= t0) & (truth < t0 + window)]
        if e.size < 3 or g.size < 3:
            continue
        r = float(np.median(np.diff(e)) / np.median(np.diff(g)))
        levels.append(float(snaps[np.argmin(np.abs(np.log(snaps / r)))]))
    return levels


@dataclass
class SongScore:
    f: float
    levels: str
    flip: bool
    meter: str
    downbeat_cuts: float  # fraction of interior cuts within 50 ms of a true downbeat
    worst_cut_ms: float  # interior cut furthest from a true beat


def score(song: SynthSong, a: object) -> SongScore:
    beats = np.asarray(a.beats)  # type: ignore[attr-defined]
    cuts = np.array([b.end for b in a.boundaries[:-1]])  # type: ignore[attr-defined]
    lv = octave_levels(song.beats, beats)
    names = sorted(set(lv), key=lv.index)
    down = float(np.mean([np.min(np.abs(song.downbeats - c)) < CUT_TOL for c in cuts])) if cuts.size else 0.0
    worst = float(max(np.min(np.abs(song.beats - c)) for c in cuts)) * 1000 if cuts.size else 0.0
    return SongScore(
        f=f_measure(song.beats, beats),
        levels="->".join(f"x{v:.2g}" for v in names) or "-",
        flip=len(names) > 1,
        meter=str(getattr(a, "meter", "4/4 (fixed)")),
        downbeat_cuts=down,
        worst_cut_ms=worst,
    )


def timing(tmp: Path, before: ModuleType | None) -> tuple[float, float, float]:
    """(cold, warm median of 3, warm before) wall seconds of ``analyze()`` on Karissa Hobbs looped to 180 s,
    re-encoded as 44.1 kHz stereo OGG (decoding and resampling timed too). Cold = a fresh interpreter."""
    path = tmp / "song180.ogg"
    ff = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-stream_loop", "1"]
    subprocess.run([*ff, "-i", str(SONG), "-t", str(TARGET_SECONDS), "-vn", "-c:a", "libvorbis", str(path)], check=True)
    code = (
        "import time; t = time.perf_counter(); from core.audio import analyze; "
        f"analyze({str(path)!r}); print(time.perf_counter() - t)"
    )
    cold = float(
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    )
    after_audio.analyze(path)
    walls = []
    for _ in range(3):
        t0 = time.perf_counter()
        after_audio.analyze(path)
        walls.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    if before:
        before.analyze(path)
    return cold, float(np.median(walls)), time.perf_counter() - t0 if before else float("nan")


#: what ../shared/testdata/MANIFEST.md says of each recording (the only ground truth beside madmom's annotations)
MANIFEST = {
    "sweet-waltz": "3/4 waltz",
    "solo-trumpet": "stated 90 BPM",
    "Hungarian_Dance": "rubato, no drums",
    "Drum-bass": "strong drum + bass",
    "Lets_Go_Fishin": "vocals, steady",
    "Vibe_Ace": "jazz/lounge, steady",
    "Sugar_Plum": "classical, soft beat",
    "ragtime": "solo piano ragtime",
}


def self_levels(beats: np.ndarray, window: float = 4.0) -> list[float]:
    """Metrical level per ``window`` s against the song's own median beat period (no annotation to compare with):
    changing levels mean the tracker switched octave inside the song."""
    if beats.size < 4:
        return []
    return octave_levels(np.arange(beats[0], beats[-1], float(np.median(np.diff(beats)))), beats, window)


def real_music(console: Console, before: ModuleType | None) -> None:
    """Every song of testdata/music and madmom's annotated sample through the tracker and the meter, before and
    after: tempo, stability (beat gaps within 10 % of the median), octave flips, meter, and the MANIFEST's word."""
    table = Table(title="Real recordings (../shared/testdata; no annotations except madmom_sample)")
    for col in ("song", "s", "MANIFEST", "BPM before", "BPM after", "steady gaps before", "steady gaps after",
                "flips before", "flips after", "meter after (conf.)", "F (human)"):  # fmt: skip
        table.add_column(col)
    songs = sorted((TESTDATA / "music").glob("*.ogg")) + [MADMOM]
    ref = np.loadtxt(MADMOM.with_suffix(".beats"), comments="#", ndmin=2)[:, 0]
    for path in songs:
        y, sr = load_audio(path)
        cells: list[tuple[Any, Any] | None] = []
        for mod in (before, after_audio):
            if mod is None:
                cells.append(None)
                continue
            feats = mod.compute_features(y, sr)
            tracked = mod.track_beats(feats)
            meter = mod.estimate_meter(feats, tracked.times) if hasattr(mod, "estimate_meter") else None
            cells.append((tracked, meter))
        note = next((v for k, v in MANIFEST.items() if k in path.name), "~88 BPM, annotated")

        def cell_text(cell: tuple[Any, Any] | None, what: str) -> str:
            if cell is None:
                return "-"
            beats = np.asarray(cell[0].times)
            if what == "bpm":
                return f"{60 / np.median(np.diff(beats)):.1f}" if beats.size > 2 else "-"
            if what == "steady":
                ibi = np.diff(beats)
                return f"{np.mean(np.abs(ibi / np.median(ibi) - 1) <= 0.1):.0%}" if ibi.size > 1 else "-"
            lv = self_levels(beats)
            return str(sum(a != b for a, b in zip(lv, lv[1:], strict=False)))

        meter = cells[1][1] if cells[1] else None
        f = f_measure(ref, np.asarray(cells[1][0].times)) if path == MADMOM and cells[1] else None
        b, a = cells
        table.add_row(path.name[:38], f"{y.size / sr:.1f}", note, cell_text(b, "bpm"), cell_text(a, "bpm"),
                      cell_text(b, "steady"), cell_text(a, "steady"), cell_text(b, "flips"), cell_text(a, "flips"),
                      f"{meter.label} ({meter.confidence:.2f})" if meter else "-",
                      f"{f:.3f}" if f is not None else "")  # fmt: skip
    console.print(table)


def main() -> int:
    console = Console(width=160)
    before = baseline_module()
    if "--real" in sys.argv[1:]:
        real_music(console, before)
        return 0
    songs = corpus()
    table = Table(title=f"Synthetic corpus (30 s each; before = core/audio.py @ {BASE}; 70 ms F window)")
    for col in ("song", "F before", "F after", "level before", "level after", "meter", "on downbeat before",
                "on downbeat after", "worst cut before", "worst cut after"):  # fmt: skip
        table.add_column(col)
    after_scores: list[tuple[SynthSong, SongScore]] = []
    before_scores: list[SongScore] = []
    with tempfile.TemporaryDirectory() as d:
        for song in songs:
            wav = write_wav(Path(d) / "song.wav", song.samples, song.sr)
            sa = score(song, after_audio.analyze(wav))
            sb = score(song, before.analyze(wav)) if before else None
            after_scores.append((song, sa))
            if sb:
                before_scores.append(sb)
            table.add_row(
                song.name,
                f"{sb.f:.3f}" if sb else "-",
                f"{sa.f:.3f}",
                sb.levels if sb else "-",
                sa.levels,
                f"{sa.meter} ({'ok' if sa.meter.split()[0] == song.meter else 'WRONG'})",
                f"{sb.downbeat_cuts:.0%}" if sb else "-",
                f"{sa.downbeat_cuts:.0%}",
                f"{sb.worst_cut_ms:.0f} ms" if sb else "-",
                f"{sa.worst_cut_ms:.0f} ms",
            )
        console.print(table)
        real_music(console, before)
        cold, warm, warm_before = timing(Path(d), before)

    ref = np.loadtxt(MADMOM.with_suffix(".beats"), comments="#", ndmin=2)[:, 0]
    my, msr = load_audio(MADMOM)
    mad_after = f_measure(ref, after_audio.beat_times(my, msr))
    mad_before = f_measure(ref, before.beat_times(my, msr)) if before else float("nan")

    def mean(xs: list[float]) -> float:
        return float(np.mean(xs)) if xs else float("nan")

    clear = [(s, x) for s, x in after_scores if s.clear_meter]
    down_after = mean([x.downbeat_cuts for _, x in clear])
    rows: list[tuple[str, str, str, str, bool]] = [
        ("mean beat F, synthetic corpus", f"{mean([b.f for b in before_scores]):.3f}",
         f"{mean([x.f for _, x in after_scores]):.3f}", ">= 0.97", mean([x.f for _, x in after_scores]) >= 0.97),
        ("songs with a tempo-octave flip", str(sum(b.flip for b in before_scores)),
         str(sum(x.flip for _, x in after_scores)), "0", not any(x.flip for _, x in after_scores)),
        ("meter correct (3/4 and 4/4 songs)", "4/4 only",
         f"{sum(x.meter.split()[0] == s.meter for s, x in after_scores if s.meter in ('3/4', '4/4'))}"
         f"/{sum(s.meter in ('3/4', '4/4') for s, _ in after_scores)}", "all",
         all(x.meter.split()[0] == s.meter for s, x in after_scores if s.meter in ("3/4", "4/4"))),
        ("cuts on a true downbeat (clear meter)", f"{mean([b.downbeat_cuts for b in before_scores]):.0%}",
         f"{down_after:.0%}", ">= 90%", down_after >= 0.9),
        ("worst cut from a true beat", f"{max((b.worst_cut_ms for b in before_scores), default=0):.0f} ms",
         f"{max(x.worst_cut_ms for _, x in after_scores):.0f} ms", "<= 50 ms",
         max(x.worst_cut_ms for _, x in after_scores) <= 50),
        ("beat F madmom_sample.wav (2.8 s, human)", f"{mad_before:.3f}", f"{mad_after:.3f}", ">= 0.5",
         mad_after >= 0.5),
        ("analyze() 180 s OGG, warm (median of 3; before: 1 run)", f"{warm_before:.2f} s", f"{warm:.2f} s",
         "<= 3 s", warm <= 3.0),
        ("analyze() 180 s OGG, cold process", "", f"{cold:.2f} s", "<= 10 s", cold <= 10.0),
    ]  # fmt: skip
    summary = Table(title="Audio analysis targets (issue 13)")
    for col in ("measure", "before", "after", "target", "pass"):
        summary.add_column(col)
    for measure, b, a, target, ok in rows:
        summary.add_row(measure, b, a, target, "[green]PASS[/]" if ok else "[red]FAIL[/]")
    console.print(summary)
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
