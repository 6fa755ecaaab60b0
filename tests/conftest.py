from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("VIDEOGEN_TESTDATA", ROOT.parent / "shared" / "testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"shared test data not found at {TESTDATA} (set VIDEOGEN_TESTDATA)")
    return TESTDATA


@pytest.fixture(scope="session")
def vibe_ace(testdata: Path) -> Path:
    """61.5 s instrumental, steady tempo (CC BY 3.0)."""
    return testdata / "music" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
