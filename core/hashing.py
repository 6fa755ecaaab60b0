"""Content hashes: file bytes, the source of the code that produced a result, and stable seeds from text."""

from __future__ import annotations

import hashlib
import importlib
from functools import lru_cache
from pathlib import Path


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of the file's bytes (streamed, 1 MiB at a time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def code_fingerprint(*module_names: str) -> str:
    """Hash of the named modules' source files: a change to a stage's logic must invalidate its cached outputs
    (Prefect's TASK_SOURCE only sees the thin task function, not the core code it calls)."""
    digest = hashlib.sha256()
    for name in module_names:
        module = importlib.import_module(name)
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


def seed_of(*parts: str) -> int:
    """A stable 31-bit seed from text (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:4], "big") & 0x7FFFFFFF
