"""Karaoke captions burned in by the per-clip conform (the ``subtitles`` hook), with real ffmpeg + libass.

Input tried: a 2 s flat blue 640x360 clip conformed to 60 frames at 30 fps as the piece that starts at song frame
30 (1.0 s), with and without the karaoke ASS of one aligned line sung at 1.0-2.5 s; frame 15 (song 1.5 s) is
compared.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from core import captions, lyrics
from core.compose import conform_clip
from core.contracts import Lyrics, LyricSegment, LyricWord
from core.media import run_ffmpeg
from core.settings import RenderSettings
from core.timeline import ConformSpec

pytestmark = pytest.mark.slow


def _frame(h264: Path, index: int) -> np.ndarray:
    with av.open(str(h264), format="h264") as box:
        for i, frame in enumerate(box.decode(video=0)):
            if i == index:
                return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.int16)
    raise AssertionError(f"no frame {index}")


def test_karaoke_changes_the_caption_region_only(tmp_path: Path) -> None:
    src = tmp_path / "blue.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=0x2050a0:s=640x360:r=30:d=2", "-c:v", "libx264", "-pix_fmt",
                "yuv420p", str(src)])  # fmt: skip
    words = [LyricWord(text=w, start=1.0 + 0.5 * i, end=1.4 + 0.5 * i, confidence=0.9) for i, w in
             enumerate(["hold", "my", "hand"])]  # fmt: skip
    heard = Lyrics(words=words, segments=[LyricSegment(start=1.0, end=2.4, text="hold my hand")], instrumental=False)
    timed = lyrics.align(lyrics.parse("Hold my hand"), heard, duration=10)
    render = RenderSettings(width=640, height=360)
    ass = tmp_path / "k.ass"
    ass.write_text(captions.to_ass(timed, width=640, height=360, palette=["#101010", "#ff8800", "#ffffff"]))

    plain = conform_clip(src, ConformSpec(60, start=30), render=render, cache_dir=tmp_path / "c")
    burned = conform_clip(src, ConformSpec(60, start=30, subtitles=str(ass)), render=render, cache_dir=tmp_path / "c")
    assert plain.key != burned.key, "the subtitles enter the conform cache key"
    assert plain.body is not None and burned.body is not None
    a, b = _frame(plain.body, 15), _frame(burned.body, 15)
    diff = np.abs(a - b).max(axis=2)
    caption_rows = slice(int(360 * 0.70), int(360 * 0.92))  # the lower title-safe band
    assert (diff[caption_rows] > 60).sum() > 200, "the words are drawn"
    assert diff[: int(360 * 0.6)].max() <= 12, "nothing changes above the captions"
    # before the line starts (frame 0 = song 1.0 s is its first word; song 0.9 s would be frame -3): the piece
    # started at song frame 0 instead shows the line only from frame 30 on
    early = conform_clip(src, ConformSpec(60, subtitles=str(ass)), render=render, cache_dir=tmp_path / "c")
    assert early.body is not None
    assert np.abs(_frame(early.body, 10) - _frame(plain.body, 10)).max() <= 12, "no caption before 1.0 s"
