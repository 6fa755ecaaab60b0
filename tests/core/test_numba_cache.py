"""Issue 11 #1: two flow runs' first analyses on an empty numba cache crashed with SIGSEGV (exit -11), and so did
every later run. Under ``core.numba_cache.warm`` (the audio task's call) they take turns, and a cache a crash left
half-written is wiped before it is trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.media import cut_audio

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ANALYSE = """
import sys
from pathlib import Path
from core import numba_cache
from core.audio import analyze
with numba_cache.warm():
    a = analyze(Path(sys.argv[1]))
print("tempo", round(a.tempo))
"""


def _analyses(song: Path, cache: Path, n: int) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    procs = [subprocess.Popen([sys.executable, "-c", ANALYSE, str(song)], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(n)]  # fmt: skip
    out = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=400)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out


def test_two_concurrent_first_analyses_on_an_empty_cache_both_succeed(vibe_ace: Path, tmp_path: Path) -> None:
    """Tried: two analyses at once on an empty NUMBA_CACHE_DIR (before: one died with -11), then a third on the
    cache they left (before: -11 again), then a third after planting a garbage cache without the marker."""
    song = cut_audio(vibe_ace, tmp_path / "song.mp3", start=10, seconds=20)
    cache = tmp_path / "numba"
    first = _analyses(song, cache, 2)
    assert [r.returncode for r in first] == [0, 0], [r.stderr[-2000:] for r in first]
    assert any(cache.glob(".videogen-warm-*"))
    (later,) = _analyses(song, cache, 1)
    assert later.returncode == 0, later.stderr[-2000:]
    assert first[0].stdout == later.stdout
