from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Isolate Prefect and VideoGen state before anything imports prefect: a private PREFECT_HOME (its database and
# result store) and data dir per test session, so no test reuses a cache from a developer's earlier runs.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="videogen-tests-"))
os.environ.setdefault("PREFECT_HOME", str(_SESSION_DIR / "prefect"))
os.environ.setdefault("VIDEOGEN_DATA_DIR", str(_SESSION_DIR / "data"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("VIDEOGEN_RETRY_BACKOFF", "0")
# tests/tasks call tasks directly, outside any flow run: their retry logs have no run to be sent to
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
# Whisper costs seconds per song on 2 cores: flows in tests skip it unless a test asks for it
# (tests/providers/test_offline_transcription.py and the lyrics flow test set ``offline``).
os.environ.setdefault("VIDEOGEN_PROVIDERS__TRANSCRIPTION", "instrumental")
# x264 at 1080p is most of a render: the suite encodes at draft (ultrafast) unless a test asks for a level; what
# each level means reaching x264 is tests/core/test_quality.py's, and `make demo` renders at the default.
os.environ.setdefault("VIDEOGEN_RENDER__QUALITY", "draft")

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

# The real local stack (Redis, Prefect server, served deployment, bridge, API): one per session, started lazily.
pytest_plugins = ["tests.stack"]

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("VIDEOGEN_TESTDATA", ROOT.parent / "shared" / "testdata"))


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"shared test data not found at {TESTDATA} (set VIDEOGEN_TESTDATA)")
    return TESTDATA


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session, shared by every suite that asks for it (starting one
    costs 13-50 s on two busy cores)."""
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def vibe_ace(testdata: Path) -> Path:
    """61.5 s instrumental, steady tempo (CC BY 3.0)."""
    return testdata / "music" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave nothing behind in /tmp: the session's Prefect home, caches and rendered videos."""
    import shutil

    if os.environ.get("VIDEOGEN_KEEP_TEST_DIR"):  # for post-mortems: logs of the stack's processes live there
        print(f"\nkept {_SESSION_DIR}")
        return
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)
