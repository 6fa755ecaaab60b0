"""core.media.probe: the caller says what an unreadable file means."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import AudioError, CompositionError
from core.media import probe


def test_probe_raises_the_callers_error_without_the_directory(tmp_path: Path) -> None:
    """Tried: text named song.mp3, and a missing clip.mp4: CompositionError by default (composer files),
    AudioError when the caller probes the input song; neither message shows where the file lives."""
    song = tmp_path / "song.mp3"
    song.write_text("not audio\n" * 50)
    with pytest.raises(AudioError, match=r"^cannot read song\.mp3: Invalid data") as info:
        probe(song, error=AudioError)
    assert str(tmp_path) not in str(info.value)
    with pytest.raises(CompositionError, match=r"^cannot read clip\.mp4: No such file") as comp:
        probe(tmp_path / "clip.mp4")
    assert not isinstance(comp.value, AudioError) and str(tmp_path) not in str(comp.value)
