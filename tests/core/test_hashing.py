"""``core.hashing.code_fingerprint``: the code part of every stage's cache key follows the imports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import hashing


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch project: core/a.py imports core.b (inside a function), core/b.py imports core.c; core/d.py alone."""
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "a.py").write_text("import json\n\ndef f():\n    from core.b import g\n    return g()\n")
    (tmp_path / "core" / "b.py").write_text("from core import c\n\ndef g():\n    return c.h()\n")
    (tmp_path / "core" / "c.py").write_text("def h():\n    return 1\n")
    (tmp_path / "core" / "d.py").write_text("X = 1\n")
    monkeypatch.setattr(hashing, "_ROOT", tmp_path)
    hashing.code_fingerprint.cache_clear()
    hashing._project_imports.cache_clear()
    yield tmp_path
    hashing.code_fingerprint.cache_clear()
    hashing._project_imports.cache_clear()


def test_closure_follows_imports_to_project_modules_only(project: Path) -> None:
    """Input: a -> b (function-level import) -> c (``from core import c``, which runs core/__init__.py too); json is
    not followed."""
    assert hashing.code_closure(("core.a",)) == {"core.a", "core.b", "core", "core.c"}


def test_change_two_imports_away_changes_the_fingerprint(project: Path) -> None:
    """Input: c.py edited. a's fingerprint changes (a only reaches c through b); d's, which imports nothing, does
    not."""
    before_a, before_d = hashing.code_fingerprint("core.a"), hashing.code_fingerprint("core.d")
    (project / "core" / "c.py").write_text("def h():\n    return 2\n")
    hashing.code_fingerprint.cache_clear()
    assert hashing.code_fingerprint("core.a") != before_a
    assert hashing.code_fingerprint("core.d") == before_d


def test_audio_stage_key_covers_the_beat_tracker() -> None:
    """Input: the audio stage's modules as the task names them. The beat tracker (core.beat_dp), which the list
    does not name, is in the hash: a change to it re-analyses instead of reusing cached beats."""
    closure = hashing.code_closure(("core.audio", "core.audio_input", "core.lyrics"))
    assert {"core.beat_dp", "core.settings", "core.contracts"} <= closure


def test_conform_key_changes_with_the_composer_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Input: the same clip bytes, layout and settings, with core.compose's code fingerprint changed. The cached
    conformed pieces must not be reused (the key had a hand-bumped version number instead)."""
    from core import compose
    from core.settings import RenderSettings
    from core.timeline import ConformSpec

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"the same bytes")
    spec, render = ConformSpec(frames=90), RenderSettings()
    monkeypatch.setattr(compose, "code_fingerprint", lambda *names: "before")
    before = compose.conform_key(clip, spec, render)
    assert compose.conform_key(clip, spec, render) == before
    monkeypatch.setattr(compose, "code_fingerprint", lambda *names: "after")
    assert compose.conform_key(clip, spec, render) != before
