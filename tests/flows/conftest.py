from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from core.media import run_ffmpeg


@pytest.fixture(scope="session", autouse=True)
def prefect_backend() -> Iterator[None]:
    """One temporary Prefect server for the whole session (starting one costs ~13 s)."""
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def short_song(vibe_ace: Path, session_dir: Path) -> Path:
    """The first 14 s of Vibe Ace as MP3: short enough to render fast, long enough for >= 3 clips."""
    out = session_dir / "vibe14.mp3"
    if not out.exists():
        run_ffmpeg(["-i", str(vibe_ace), "-t", "14", "-map", "0:a", "-c:a", "libmp3lame", "-q:a", "4", str(out)])
    return out
