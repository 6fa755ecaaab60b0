"""Lyrics end to end, as a user runs it: ``videogen render SONG --lyrics FILE --captions karaoke`` on a real voice
(JFK's "ask not" speech, public domain, with its transcript), offline. The supplied words are aligned to what the
recogniser heard, and the MP4 carries them three ways: a soft subtitle track, .srt/.vtt sidecars, burned-in karaoke."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from core.media import ffmpeg_exe, probe, run_ffmpeg
from tests.flows.test_cli import server_env, videogen

__all__ = ["server_env"]  # the fixture: the CLI talks to the session's Prefect server

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "lyrics"


def _frame(video: Path, t: float, out: Path) -> np.ndarray:
    """The frame at ``t`` as a (1080, 1920, 3) uint8 array."""
    run_ffmpeg(["-ss", f"{t:.3f}", "-i", str(video), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", str(out)])
    return np.frombuffer(out.read_bytes(), dtype=np.uint8).reshape(1080, 1920, 3)


def test_supplied_lyrics_are_aligned_and_captioned_three_ways(
    testdata: Path, tmp_path: Path, server_env: dict[str, str]
) -> None:
    """Tried: jfk.flac (11 s of speech) with jfk.txt as the lyrics (plain text, one line), karaoke captions."""
    song = testdata / "speech" / "jfk.flac"
    lyrics = tmp_path / "lyrics.txt"
    shutil.copy(testdata / "speech" / "jfk.txt", lyrics)
    supplied = re.findall(r"[\w']+", lyrics.read_text().lower())
    out = tmp_path / "out"
    proc = videogen(
        "render",
        str(song),
        "--prompt",
        "a statesman at a podium, crowds in the snow",
        "--lyrics",
        str(lyrics),
        "--captions",
        "karaoke",
        "--out",
        str(out),
        timeout=600,
        # the suite's default is "instrumental" (no model load): this test wants the real offline recogniser
        env={**server_env, "VIDEOGEN_PROVIDERS__TRANSCRIPTION": "offline"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())

    # every supplied word, in order, with a time inside the song; most of them heard by the recogniser
    lyr = result["audio"]["lyrics"]
    words = lyr["words"]
    assert lyr["supplied"] and not lyr["instrumental"]
    assert [re.sub(r"[^\w']", "", w["text"].lower()) for w in words] == supplied
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and all(w["end"] > w["start"] for w in words)
    assert words[-1]["end"] <= result["audio"]["duration"] + 1e-6
    matched = sum(w["timing"] == "matched" for w in words)
    assert matched >= 0.8 * len(supplied), lyr["alignment"]
    # "country" is said twice, about 4.6 s and 10 s in (the recording): the two are timed apart
    country = [w["start"] for w in words if w["text"].lower().startswith("country")]
    assert len(country) == 2 and country[1] - country[0] > 3

    # a soft track in the MP4, and the sidecars with the supplied words
    comp = result["composition"]
    assert comp["captions"] == "karaoke"
    info = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out / "final.mp4")], capture_output=True, text=True)
    assert re.search(r"Subtitle: mov_text", info.stderr), info.stderr[-1500:]
    srt, vtt = out / "final.srt", out / "final.vtt"
    assert comp["captions_srt"].endswith("final.srt") and comp["captions_vtt"].endswith("final.vtt")
    assert "fellow Americans" in srt.read_text() and vtt.read_text().startswith("WEBVTT")
    assert abs(probe(out / "final.mp4").duration - result["audio"]["duration"]) < 0.1

    # burned in: while a word is sung the lower third shows bright caption text, absent before the first word
    first = words[0]["start"]
    mid = next(w for w in words if w["start"] > 2.0)
    during = _frame(out / "final.mp4", mid["start"] + 0.05, tmp_path / "during.rgb")
    band = slice(int(1080 * 0.70), int(1080 * 0.95))
    lit_during = float((during[band].min(axis=2) > 225).mean())
    if first > 0.6:
        before = _frame(out / "final.mp4", first / 2, tmp_path / "before.rgb")
        assert lit_during > 2 * float((before[band].min(axis=2) > 225).mean())
    assert lit_during > 0.002, lit_during  # white-ish glyph pixels: more than 0.2 % of the band
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # to look at
    run_ffmpeg(["-ss", f"{mid['start'] + 0.05:.3f}", "-i", str(out / "final.mp4"), "-frames:v", "1",
                str(ARTIFACTS / "karaoke-frame.png")])  # fmt: skip
