from __future__ import annotations

from pathlib import Path

import pytest

from core.media import cut_audio


@pytest.fixture(scope="session", autouse=True)
def prefect_backend(prefect_harness: None) -> None:
    """Flow tests run against the session's temporary Prefect server."""


@pytest.fixture(scope="session")
def short_song(vibe_ace: Path, session_dir: Path) -> Path:
    """The first 14 s of Vibe Ace as MP3: short enough to render fast, long enough for >= 3 clips."""
    return cut_audio(vibe_ace, session_dir / "vibe14.mp3", seconds=14, quality=4)
