from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from core.media import cut_audio


@pytest.fixture(scope="session", autouse=True)
def prefect_backend() -> Iterator[None]:
    """One temporary Prefect server for the whole session (starting one costs ~13 s)."""
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def short_song(vibe_ace: Path, session_dir: Path) -> Path:
    """The first 14 s of Vibe Ace as MP3: short enough to render fast, long enough for >= 3 clips."""
    return cut_audio(vibe_ace, session_dir / "vibe14.mp3", seconds=14, quality=4)
