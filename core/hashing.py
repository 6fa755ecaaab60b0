"""Content hashes: file bytes, the source of the code that produced a result, and stable seeds from text."""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of the file's bytes (streamed, 1 MiB at a time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: the packages whose code computes results; their modules are followed through imports
PROJECT_PACKAGES = ("core", "providers")
_ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=64)
def code_fingerprint(*module_names: str) -> str:
    """Hash of the named modules' source and of every project module they import, transitively: a change to a
    stage's logic must invalidate its cached outputs (Prefect's TASK_SOURCE only sees the thin task function, not the
    core code it calls), and a hand-kept list of modules missed ``core.beat_dp`` under ``core.audio``."""
    digest = hashlib.sha256()
    for name in sorted(code_closure(module_names)):
        digest.update(name.encode())
        digest.update(_source(name))
    return digest.hexdigest()[:16]


def code_closure(module_names: tuple[str, ...]) -> set[str]:
    """The named modules and the project modules (``PROJECT_PACKAGES``) they import, directly or not."""
    seen: set[str] = set()
    todo = list(module_names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_project_imports(name))
    return seen


def _path(name: str) -> Path | None:
    """The source file of project module ``name``, found without importing it."""
    base = _ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _source(name: str) -> bytes:
    path = _path(name)
    if path is None:
        raise ModuleNotFoundError(f"no project module {name}")
    return path.read_bytes()


@lru_cache(maxsize=256)
def _project_imports(name: str) -> tuple[str, ...]:
    """Project modules that ``name``'s source imports (read statically: function-level and TYPE_CHECKING imports
    count too, which can only invalidate more)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(_source(name))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # ``from core import audio``
    return tuple(sorted(m for m in found if m.split(".")[0] in PROJECT_PACKAGES and _path(m)))


def seed_of(*parts: str) -> int:
    """A stable 31-bit seed from text (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:4], "big") & 0x7FFFFFFF
