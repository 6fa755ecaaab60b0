"""Lyrics benchmark (issue 15): offline transcription (faster-whisper tiny.en from its wheel) and the alignment of
supplied lyrics, on ../shared/testdata. One command, one table:

    uv run python -m bench.lyrics [--quick]

Per file: language, word error rate of the transcript against the known text, the aligned lyrics' word-onset
error (median, 90th percentile, share within 300 ms; only where human word times exist), how the words were
timed, and the wall times of transcription and alignment, also scaled to a 3-minute song. Instrumental songs
must give 0 words. ``--quick`` skips the instrumentals but Vibe Ace.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from core import lyrics as lyrics_core
from core.contracts import Lyrics
from providers.offline import transcription as tr

DATA = Path(os.environ.get("VIDEOGEN_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "testdata"))
SONG = 180.0  # the 3-minute song


def wer(truth: str, hyp: str) -> float:
    """Word error rate (Levenshtein over normalised words / reference length)."""
    a = [lyrics_core.normalise(w) for w in re.findall(r"[\w']+", truth)]
    b = [lyrics_core.normalise(w) for w in re.findall(r"[\w']+", hyp)]
    d = np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        prev, d[0] = d.copy(), i
        for j in range(1, len(b) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
    return float(d[len(b)]) / max(1, len(a))


def transcribe(path: Path) -> tuple[Lyrics, float, float]:
    t0 = time.perf_counter()
    samples = tr.decode(path)
    heard = tr.recognise(samples)
    segments, words = tr.guard(heard, samples)
    out = tr.lyrics_of(segments, words, voiced=tr.voiced_regions(heard), provider="offline")
    return out, time.perf_counter() - t0, samples.size / tr.SAMPLE_RATE


def onset_errors(aligned: list[float], truth: list[float]) -> tuple[str, str, str]:
    if len(aligned) != len(truth):
        return ("n/a", "n/a", f"{len(aligned)} vs {len(truth)} words")
    err = np.abs(np.asarray(aligned) - np.asarray(truth)) * 1000
    return f"{np.median(err):.0f}", f"{np.percentile(err, 90):.0f}", f"{np.mean(err <= 300) * 100:.0f} %"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    console = Console()
    table = Table(title=f"Lyrics (issue 15): tiny.en int8, 2 threads; wall times x {SONG:.0f} s / length")
    for col in ("file", "lang", "words", "WER", "onset median ms", "p90 ms", "<= 300 ms", "timing",
                "transcribe s (3 min)", "align s (3 min)"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("file", "timing") else "right")

    tr._model(2)  # load once, outside the timings (≈ 1-3 s)
    speech = DATA / "speech"
    for audio in sorted(speech.glob("*.wav")) + sorted(speech.glob("*.flac")):
        out, secs, dur = transcribe(audio)
        truth = audio.with_suffix(".txt").read_text()
        table.add_row(audio.name, "en", str(len(out.words)), f"{wer(truth, out.text):.2f}", "", "", "", "recognised",
                      f"{secs:.1f} ({secs * SONG / dur:.0f})", "")  # fmt: skip

    vl = DATA / "vocals_lyrics"
    cases = [
        ("Fantasma_-_Los_Rombos.mp3", "es", vl / "Fantasma_-_Los_Rombos.lyrics.txt",
         vl / "Fantasma_-_Los_Rombos.words.csv"),
        ("vocadito_1.wav", "tl", vl / "vocadito_1_lyrics.txt", None),
    ]  # fmt: skip
    for name, lang, text_file, words_csv in cases:
        out, secs, dur = transcribe(vl / name)
        text = text_file.read_text()
        truth = [float(r["word_start"]) for r in csv.DictReader(words_csv.open())] if words_csv else []
        variants = [("plain", text)]
        if words_csv:  # the same lyrics as LRC, line times from the human annotation
            lines = list(csv.DictReader((vl / name.replace(".mp3", ".lines.csv")).open()))
            lrc = "".join(f"[{int(float(r['start_time']) // 60):02d}:{float(r['start_time']) % 60:05.2f}]"
                          f"{r['lyrics_line']}\n" for r in lines)  # fmt: skip
            variants.append(("LRC", lrc))
        for kind, supplied in variants:
            t0 = time.perf_counter()
            aligned = lyrics_core.align(lyrics_core.parse(supplied, duration=dur), out, duration=dur,
                                        voiced=out.voiced)  # fmt: skip
            asecs = time.perf_counter() - t0
            med, p90, share = onset_errors([w.start for w in aligned.words], truth) if truth else ("n/a", "n/a", "n/a")
            timings = sorted({w.timing for w in aligned.words})
            table.add_row(f"{name} ({kind})", lang, str(len(aligned.words)), f"{wer(text, out.text):.2f}", med, p90,
                          share, "/".join(timings), f"{secs:.1f} ({secs * SONG / dur:.0f})",
                          f"{asecs:.3f} ({asecs * SONG / dur:.3f})")  # fmt: skip

    music = sorted((DATA / "music").glob("*.ogg"))
    instrumental = [m for m in music if "Lets_Go_Fishin" not in m.name]
    if args.quick:
        instrumental = [m for m in instrumental if "Vibe_Ace" in m.name]
    for audio in instrumental:
        out, secs, dur = transcribe(audio)
        table.add_row(audio.name[:40], "instr.", str(len(out.words)), "", "", "", "", "must be 0",
                      f"{secs:.1f} ({secs * SONG / dur:.0f})", "")  # fmt: skip
    console.print(table)
    console.print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
